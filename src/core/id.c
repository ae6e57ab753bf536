/* id.c - ULIDs: 48-bit millisecond time + 80 random bits in Crockford
 * base32, monotonic within the process.
 *
 * Ids name messages in the store, in API answers and in logs, so they must
 * sort by creation time and never repeat. This module only makes and reads
 * ids: it must never log, allocate or block for longer than one getrandom(2)
 * call.
 */
#include "core/id.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/error.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The last id made by sg_id_new, guarded by id_lock. */
static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ms;
static uint8_t last_rnd[SG_ID_RANDOM_BYTES];
static bool have_last;

/* The value (0..31) of each ASCII character in the alphabet, either case;
 * -1 for any other. */
/* clang-format off */
static const int8_t char_value[128] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, 16, 17, -1, 18, 19, -1, 20, 21, -1,
    22, 23, 24, 25, 26, -1, 27, 28, 29, 30, 31, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, 16, 17, -1, 18, 19, -1, 20, 21, -1,
    22, 23, 24, 25, 26, -1, 27, 28, 29, 30, 31, -1, -1, -1, -1, -1,
};
/* clang-format on */

/* The 26 characters read the 128-bit id as a 130-bit number with two
 * leading zero bits, five bits a character: the first two characters hold
 * the first octet (3 + 5 bits), and each next eight characters (40 bits)
 * the next five octets. Both directions work in those groups, in 64-bit
 * words, one shift a character. */
#define ID_GROUPS 3 /* of eight characters and five octets */

int sg_id_format(uint64_t time_ms, const uint8_t rnd[SG_ID_RANDOM_BYTES],
                 char out[SG_ID_LEN + 1]) {
  if (time_ms > SG_ID_TIME_MAX)
    return SG_ERANGE;
  uint8_t b[SG_ID_BYTES];
  for (int i = 0; i < 6; i++)
    b[i] = (uint8_t)(time_ms >> (8 * (5 - i)));
  memcpy(b + 6, rnd, SG_ID_RANDOM_BYTES);
  out[0] = alphabet[b[0] >> 5];
  out[1] = alphabet[b[0] & 31u];
  for (int g = 0; g < ID_GROUPS; g++) {
    const uint8_t *p = b + 1 + 5 * g;
    uint64_t v = (uint64_t)p[0] << 32 | (uint64_t)p[1] << 24 |
                 (uint64_t)p[2] << 16 | (uint64_t)p[3] << 8 | p[4];
    char *o = out + 2 + 8 * g;
    for (int i = 7; i >= 0; i--) {
      o[i] = alphabet[v & 31u];
      v >>= 5;
    }
  }
  out[SG_ID_LEN] = '\0';
  return 0;
}

/* The value of s[0..n), n <= 12 characters of the alphabet, or -1. */
static int64_t group_value(const char *s, int n) {
  uint64_t v = 0;
  int bad = 0;
  for (int i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    int x = c < 128 ? char_value[c] : -1;
    bad |= x;
    v = v << 5 | (uint64_t)(x & 31);
  }
  return bad < 0 ? -1 : (int64_t)v;
}

int sg_id_parse(const char *s, size_t len, uint8_t out[SG_ID_BYTES]) {
  if (s == NULL || len != SG_ID_LEN)
    return SG_EINVAL;
  int64_t first = group_value(s, 2);
  if (first < 0 || first > 255) /* the first character above 7 */
    return SG_EINVAL;
  uint8_t b[SG_ID_BYTES];
  b[0] = (uint8_t)first;
  for (int g = 0; g < ID_GROUPS; g++) {
    int64_t v = group_value(s + 2 + 8 * g, 8);
    if (v < 0)
      return SG_EINVAL;
    uint8_t *p = b + 1 + 5 * g;
    for (int i = 4; i >= 0; i--) {
      p[i] = (uint8_t)v;
      v >>= 8;
    }
  }
  memcpy(out, b, SG_ID_BYTES);
  return 0;
}

int64_t sg_id_time_ms(const char *s, size_t len) {
  uint8_t b[SG_ID_BYTES];
  if (sg_id_parse(s, len, b) < 0)
    return SG_EINVAL;
  uint64_t t = 0;
  for (int i = 0; i < 6; i++)
    t = (t << 8) | b[i];
  return (int64_t)t;
}

int sg_id_canonical(char *s, size_t len) {
  uint8_t b[SG_ID_BYTES];
  if (sg_id_parse(s, len, b) < 0)
    return SG_EINVAL;
  for (size_t i = 0; i < len; i++)
    if (s[i] >= 'a' && s[i] <= 'z')
      s[i] = (char)(s[i] - 'a' + 'A');
  return 0;
}

/* Fills buf with kernel randomness; returns 0 or SG_EIO. */
static int random_bytes(uint8_t *buf, size_t len) {
  while (len > 0) {
    ssize_t n = getrandom(buf, len, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return SG_EIO;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Adds one to the 80-bit big-endian number; returns false on overflow. */
static bool increment(uint8_t rnd[SG_ID_RANDOM_BYTES]) {
  for (int i = SG_ID_RANDOM_BYTES - 1; i >= 0; i--)
    if (++rnd[i] != 0)
      return true;
  return false;
}

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Moves last_ms/last_rnd past the last id for the time now; called with
 * id_lock held. Kernel randomness is needed only for a new millisecond (or
 * after 2^80 ids in one): within one, the next id is the last plus one. */
static int id_advance(uint64_t now) {
  if (have_last && now <= last_ms) {
    /* Same millisecond, or the clock went back: stay after the last id. If
     * 2^80 ids were made in one millisecond, borrow the next one. */
    uint8_t next[SG_ID_RANDOM_BYTES];
    memcpy(next, last_rnd, sizeof next);
    if (increment(next)) {
      memcpy(last_rnd, next, sizeof next);
      return 0;
    }
    now = last_ms + 1;
  }
  uint8_t fresh[SG_ID_RANDOM_BYTES];
  if (random_bytes(fresh, sizeof fresh) < 0)
    return SG_EIO;
  memcpy(last_rnd, fresh, sizeof fresh);
  last_ms = now;
  have_last = true;
  return 0;
}

int sg_id_new(char out[SG_ID_LEN + 1]) {
  out[0] = '\0';
  uint64_t now = wall_ms();
  pthread_mutex_lock(&id_lock);
  int rc = id_advance(now);
  uint64_t ms = last_ms;
  uint8_t rnd[SG_ID_RANDOM_BYTES];
  memcpy(rnd, last_rnd, sizeof rnd);
  pthread_mutex_unlock(&id_lock);
  return rc < 0 ? rc : sg_id_format(ms, rnd, out);
}
