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

/* The id as a 128-bit big-endian number in two halves. */
static void to_halves(const uint8_t b[SG_ID_BYTES], uint64_t *hi,
                      uint64_t *lo) {
  *hi = *lo = 0;
  for (int i = 0; i < 8; i++) {
    *hi = (*hi << 8) | b[i];
    *lo = (*lo << 8) | b[8 + i];
  }
}

int sg_id_format(uint64_t time_ms, const uint8_t rnd[SG_ID_RANDOM_BYTES],
                 char out[SG_ID_LEN + 1]) {
  if (time_ms > SG_ID_TIME_MAX)
    return SG_ERANGE;
  uint8_t b[SG_ID_BYTES];
  for (int i = 0; i < 6; i++)
    b[i] = (uint8_t)(time_ms >> (8 * (5 - i)));
  memcpy(b + 6, rnd, SG_ID_RANDOM_BYTES);
  /* 26 characters of 5 bits hold 130 bits: the id is read as a 130-bit
   * number with two leading zero bits; the last character holds the low 5
   * bits of the 128-bit number, each one before it the next 5 up. */
  uint64_t hi, lo;
  to_halves(b, &hi, &lo);
  for (int i = SG_ID_LEN - 1; i >= 0; i--) {
    out[i] = alphabet[lo & 31u];
    lo = (lo >> 5) | (hi << 59);
    hi >>= 5;
  }
  out[SG_ID_LEN] = '\0';
  return 0;
}

int sg_id_parse(const char *s, size_t len, uint8_t out[SG_ID_BYTES]) {
  if (s == NULL || len != SG_ID_LEN)
    return SG_EINVAL;
  uint64_t hi = 0, lo = 0;
  for (int i = 0; i < SG_ID_LEN; i++) {
    unsigned char c = (unsigned char)s[i];
    int v = c < 128 ? char_value[c] : -1;
    if (v < 0 || (i == 0 && v > 7))
      return SG_EINVAL;
    hi = (hi << 5) | (lo >> 59);
    lo = (lo << 5) | (uint64_t)v;
  }
  uint8_t b[SG_ID_BYTES];
  for (int i = 0; i < 8; i++) {
    b[i] = (uint8_t)(hi >> (56 - 8 * i));
    b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
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
