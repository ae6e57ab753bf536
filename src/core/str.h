/* str.h - small string helpers with no allocation and no I/O. */
#ifndef SG_CORE_STR_H
#define SG_CORE_STR_H

#include <stddef.h>
#include <string.h>

/* Copies the NUL-terminated src into dst[0..cap), truncated to cap - 1
 * octets and always terminated when cap > 0: what snprintf(dst, cap, "%s",
 * src) writes, without its format interpreter (about 600 instructions a
 * call, several per message on the send and receipt paths). Returns
 * strlen(src). */
static inline size_t sg_strlcpy(char *dst, const char *src, size_t cap) {
  size_t n = strlen(src);
  if (cap > 0) {
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, k);
    dst[k] = '\0';
  }
  return n;
}

#endif
