/* config_keep.c - the reader of store.traffic_keep, a retention counted in
 * days: a duration like the others ("400d", "90d", "2160h"), but longer
 * than the 49 days the plain duration fields (uint32_t milliseconds) hold,
 * so it is read into a uint64_t here.
 *
 * It only parses and bounds the value; it must never reach the store (the
 * daemon passes the value on at start).
 */
#include <stdint.h>

#include "core/config_int.h"

#define DAY_MS (UINT64_C(86400000))
#define KEEP_MIN (1 * DAY_MS)
#define KEEP_MAX (3650 * DAY_MS)

static void read_traffic_keep(sg__cfg_ctx_t *c, void *obj,
                              const sg__cfg_node_t *v) {
  uint64_t ms;
  if (v->kind != SG__CFG_SCALAR) {
    sg__cfg_error(c, v, "expected a duration 1d-3650d (like 90d, 400d)");
    return;
  }
  if (sg__cfg_parse_duration(v->str, v->len, &ms) != 0 || ms < KEEP_MIN ||
      ms > KEEP_MAX) {
    sg__cfg_error(c, v,
                  "expected a duration 1d-3650d (like 90d, 400d), got "
                  "\"%.*s\"",
                  (int)v->len, v->str);
    return;
  }
  *(uint64_t *)obj = ms;
}

const sg__cfg_section_t sg__cfg_traffic_keep_reader = {NULL, 0, 0, NULL,
                                                       read_traffic_keep};
