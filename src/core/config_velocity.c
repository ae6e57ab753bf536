/* config_velocity.c - the `velocity` key of an account: how many messages
 * a minute it may send to one destination prefix before it is slowed, and
 * after how many refusals the prefix is blocked (protection against SMS
 * pumping, docs/configuration.md "Velocity").
 *
 * Like config_schema.c it only reads and checks; the counting is the
 * engine's (engine/velocity.c). It must never hold state of its own.
 */
#include <stddef.h>
#include <string.h>

#include "core/config_int.h"

#define V sg_config_velocity_t
static const sg__cfg_field_t velocity_fields[] = {
    {"prefix_digits", SG__CFG_T_UINT, 0, offsetof(V, prefix_digits), 0, 1, 15,
     NULL, NULL},
    {"per_minute", SG__CFG_T_UINT, SG__CFG_F_REQUIRED, offsetof(V, per_minute),
     0, 1, 1000000, NULL, NULL},
    {"block_after", SG__CFG_T_UINT, 0, offsetof(V, block_after), 0, 0, 1000000,
     NULL, NULL},
    {"block_for", SG__CFG_T_DURATION, 0, offsetof(V, block_for_ms), 0, 0,
     30u * 24 * 3600 * 1000, NULL, NULL},
};
#undef V

/* Called only when the key is present: the defaults of its keys. */
static void init_velocity(void *obj) {
  sg_config_velocity_t *v = obj;
  memset(v, 0, sizeof *v);
  v->prefix_digits = 6;
}

const sg__cfg_section_t sg__cfg_velocity_section = {
    velocity_fields, sizeof velocity_fields / sizeof velocity_fields[0],
    sizeof(sg_config_velocity_t), init_velocity, NULL};
