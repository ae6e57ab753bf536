/* numpat.c - route patterns over E.164 numbers (numpat.h): PCRE2 compiled
 * once, with the JIT, and a match data block of its own.
 *
 * Pure apart from its allocations (through PCRE2's general context, which
 * goes to core/alloc.h): it must never log or look at anything but the
 * pattern and the number it is given.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/numpat.h"

#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

struct sg_numpat {
  pcre2_code *re;
  pcre2_match_data *md;
};

static void *pc_malloc(size_t n, void *ud) {
  (void)ud;
  return sg_malloc(n);
}

static void pc_free(void *p, void *ud) {
  (void)ud;
  sg_free(p);
}

static void set_why(char *why, size_t cap, size_t *offset, size_t off,
                    const char *text) {
  if (offset != NULL)
    *offset = off;
  if (why != NULL && cap > 0)
    snprintf(why, cap, "%s", text);
}

int sg_numpat_compile(const char *pattern, sg_numpat_t **out, char *why,
                      size_t cap, size_t *offset) {
  if (out == NULL)
    return SG_EINVAL;
  *out = NULL;
  size_t len = pattern != NULL ? strlen(pattern) : 0;
  if (len == 0 || len > SG_NUMPAT_MAX) {
    set_why(why, cap, offset, 0,
            len == 0 ? "the pattern is empty" : "the pattern is too long");
    return SG_EINVAL;
  }
  pcre2_general_context *gc =
      pcre2_general_context_create(pc_malloc, pc_free, NULL);
  if (gc == NULL)
    return SG_ENOMEM;
  pcre2_compile_context *cc = pcre2_compile_context_create(gc);
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code *re =
      cc == NULL ? NULL
                 : pcre2_compile((PCRE2_SPTR)pattern, len, 0, &err, &off, cc);
  pcre2_compile_context_free(cc);
  if (re == NULL) {
    pcre2_general_context_free(gc);
    if (err == 0 || err == PCRE2_ERROR_HEAP_FAILED)
      return SG_ENOMEM;
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(err, msg, sizeof msg);
    set_why(why, cap, offset, (size_t)off, (const char *)msg);
    return SG_EINVAL;
  }
  (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* the interpreter else */
  sg_numpat_t *p = sg_calloc(1, sizeof *p);
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, gc);
  pcre2_general_context_free(gc);
  if (p == NULL || md == NULL) {
    sg_free(p);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return SG_ENOMEM;
  }
  p->re = re;
  p->md = md;
  *out = p;
  return 0;
}

bool sg_numpat_match(sg_numpat_t *p, const char *number, size_t len) {
  return p != NULL &&
         pcre2_match(p->re, (PCRE2_SPTR)number, len, 0, 0, p->md, NULL) >= 0;
}

void sg_numpat_free(sg_numpat_t *p) {
  if (p == NULL)
    return;
  pcre2_match_data_free(p->md);
  pcre2_code_free(p->re);
  sg_free(p);
}
