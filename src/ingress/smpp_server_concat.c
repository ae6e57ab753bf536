/* smpp_server_concat.c - the parts of a message that an SMPP customer split
 * itself (esm_class UDHI with a concatenation IE, or sar_* TLVs) arrive as
 * separate submit_sm, in any order and between other traffic. Each is
 * stored and sent as it came, with its own id and receipt; this table
 * gives the parts of one message (same account, source, destination,
 * reference and total) one batch id, so that they can be found together
 * (GET /v1/messages?batch_id=).
 *
 * Pure: no I/O and no allocation (the table is the caller's, of fixed
 * size); it must never hold a group forever nor grow with traffic.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/id.h"
#include "ingress/smpp_server_int.h"

bool sg__smpps_concat_key(size_t account, const char *src, const char *dst,
                          uint16_t ref, unsigned total, char *out) {
  int n = snprintf(out, SG_SMPPS_CONCAT_KEY, "%zu|%s|%s|%u|%u", account,
                   src != NULL ? src : "", dst != NULL ? dst : "",
                   (unsigned)ref, total);
  return n > 0 && n < SG_SMPPS_CONCAT_KEY;
}

/* FNV-1a: spreads keys over the slots. */
static uint32_t hash(const char *k) {
  uint32_t h = 2166136261u;
  for (; *k != '\0'; k++)
    h = (h ^ (uint8_t)*k) * 16777619u;
  return h;
}

static bool live(const sg__smpps_concat_slot_t *s, int64_t now_ms) {
  return s->used && now_ms - s->last_ms < SG_SMPPS_CONCAT_TTL_MS;
}

/* The slot of key, or the slot to put it in (a free or stale one, else the
 * oldest of the probe run); *found says which. */
static sg__smpps_concat_slot_t *find(sg__smpps_concat_t *t, const char *key,
                                     int64_t now_ms, bool *found) {
  uint32_t h = hash(key);
  sg__smpps_concat_slot_t *spare = NULL;
  for (unsigned i = 0; i < SG_SMPPS_CONCAT_PROBE; i++) {
    sg__smpps_concat_slot_t *s = &t->slot[(h + i) % SG_SMPPS_CONCAT_SLOTS];
    if (live(s, now_ms) && strcmp(s->key, key) == 0) {
      *found = true;
      return s;
    }
    if (!live(s, now_ms)) {
      if (spare == NULL || live(spare, now_ms))
        spare = s;
    } else if (spare == NULL ||
               (live(spare, now_ms) && s->last_ms < spare->last_ms)) {
      spare = s;
    }
  }
  *found = false;
  return spare;
}

int sg__smpps_concat_batch(sg__smpps_concat_t *t, const char *key,
                           unsigned total, unsigned seq, int64_t now_ms,
                           char batch[SG_ID_LEN + 1]) {
  bool found;
  sg__smpps_concat_slot_t *s = find(t, key, now_ms, &found);
  if (!found) {
    int rc = sg_id_new(batch);
    if (rc != 0)
      return rc;
    memset(s, 0, sizeof *s);
    snprintf(s->key, sizeof s->key, "%s", key);
    memcpy(s->batch, batch, sizeof s->batch);
    s->used = true;
  } else {
    memcpy(batch, s->batch, sizeof s->batch);
  }
  s->last_ms = now_ms;
  uint8_t bit = (uint8_t)(1u << (seq & 7));
  if (seq < 256 && !(s->seen[seq >> 3] & bit)) {
    s->seen[seq >> 3] |= bit;
    s->n_seen++;
  }
  if (s->n_seen >= total)
    s->used = false; /* whole: a reused reference starts a new group */
  return 0;
}
