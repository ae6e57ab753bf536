/* smpp_server_concat.c - the parts of a message that an SMPP customer split
 * itself (esm_class UDHI with a concatenation IE, or sar_* TLVs) arrive as
 * separate submit_sm, in any order and between other traffic. Each is
 * stored into one message of N parts (sg_store_presplit_add); this table
 * keeps, per group (same account, source, destination, reference and
 * total), the batch id and the stored message once known, so that a later
 * part names its message. The helpers below also write and split the
 * part ids customers get ("<message id>-<seq>") and find concatenation
 * IEs that a receiver would ignore.
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

static int64_t ttl(const sg__smpps_concat_t *t) {
  return t->ttl_ms > 0 ? t->ttl_ms : SG_SMPPS_CONCAT_TTL_MS;
}

static bool live_in(const sg__smpps_concat_t *t,
                    const sg__smpps_concat_slot_t *s, int64_t now_ms) {
  return s->used && now_ms - s->last_ms < ttl(t);
}

/* The slot of key, or the slot to put it in (a free or stale one, else the
 * oldest of the probe run); *found says which. */
static sg__smpps_concat_slot_t *find(const sg__smpps_concat_t *t,
                                     const char *key, int64_t now_ms,
                                     bool *found) {
  uint32_t h = hash(key);
  sg__smpps_concat_slot_t *spare = NULL;
  for (unsigned i = 0; i < SG_SMPPS_CONCAT_PROBE; i++) {
    sg__smpps_concat_slot_t *s =
        (sg__smpps_concat_slot_t *)&t->slot[(h + i) % SG_SMPPS_CONCAT_SLOTS];
    if (live_in(t, s, now_ms) && strcmp(s->key, key) == 0) {
      *found = true;
      return s;
    }
    if (!live_in(t, s, now_ms)) {
      if (spare == NULL || live_in(t, spare, now_ms))
        spare = s;
    } else if (spare == NULL ||
               (live_in(t, spare, now_ms) && s->last_ms < spare->last_ms)) {
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

void sg__smpps_concat_msg(const sg__smpps_concat_t *t, const char *key,
                          int64_t now_ms, char msg[SG_ID_LEN + 1]) {
  bool found;
  const sg__smpps_concat_slot_t *s = find(t, key, now_ms, &found);
  memcpy(msg, found ? s->msg : "", found ? SG_ID_LEN + 1 : 1);
}

void sg__smpps_concat_set_msg(sg__smpps_concat_t *t, const char *key,
                              int64_t now_ms, const char *msg) {
  bool found;
  sg__smpps_concat_slot_t *s = find(t, key, now_ms, &found);
  if (found && strlen(msg) == SG_ID_LEN)
    memcpy(s->msg, msg, SG_ID_LEN + 1);
}

void sg__smpps_part_id(const char *mid, unsigned seq, char *out, size_t cap) {
  snprintf(out, cap, "%s-%u", mid, seq);
}

int sg__smpps_split_id(const char *in, char mid[SG_ID_LEN + 1],
                       unsigned *seq) {
  size_t n = strlen(in);
  uint8_t raw[SG_ID_BYTES];
  if (n < SG_ID_LEN || sg_id_parse(in, SG_ID_LEN, raw) != 0)
    return -1;
  unsigned v = 0;
  if (n > SG_ID_LEN) { /* "-<seq>": 1 to 3 digits, no leading zero */
    if (in[SG_ID_LEN] != '-' || n > SG_ID_LEN + 4 || in[SG_ID_LEN + 1] == '0')
      return -1;
    for (size_t i = SG_ID_LEN + 1; i < n; i++) {
      if (in[i] < '0' || in[i] > '9')
        return -1;
      v = v * 10 + (unsigned)(in[i] - '0');
    }
    if (v < 1 || v > 255)
      return -1;
  }
  memcpy(mid, in, SG_ID_LEN);
  mid[SG_ID_LEN] = '\0';
  sg_id_canonical(mid, SG_ID_LEN);
  *seq = v;
  return 0;
}

bool sg__smpps_concat_ie_bad(const uint8_t *udh, size_t len) {
  /* TS 23.040 9.2.3.24: UDHL, then IEI, IEDL, data; 0x00 and 0x08 are the
   * 8- and 16-bit concatenation IEs, whose last two octets are the total
   * and the sequence. */
  if (udh == NULL || len < 1 || (size_t)udh[0] + 1 > len)
    return false;
  for (size_t i = 1; i + 2 <= (size_t)udh[0] + 1;) {
    uint8_t iei = udh[i], n = udh[i + 1];
    if (i + 2 + n > (size_t)udh[0] + 1)
      return false;
    if ((iei == 0x00 && n == 3) || (iei == 0x08 && n == 4)) {
      uint8_t total = udh[i + n], seq = udh[i + n + 1];
      if (total == 0 || seq == 0 || seq > total)
        return true;
    }
    i += 2 + (size_t)n;
  }
  return false;
}
