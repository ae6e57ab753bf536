/* Tests for core/template.h: placeholders filled from a lookup (name,
 * number, fields.KEY, spaces inside the braces, text braces kept), a
 * missing value named, syntax errors with their offset, and an output
 * buffer too small. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/error.h"
#include "core/template.h"

static const char *lookup(void *data, const char *name) {
  (void)data;
  if (strcmp(name, "name") == 0)
    return "Zoë";
  if (strcmp(name, "number") == 0)
    return "+447700900001";
  if (strcmp(name, "fields.city") == 0)
    return "Leeds";
  return NULL;
}

static int fill(const char *tpl, char *out, size_t cap, char *missing) {
  size_t n = 0;
  missing[0] = '\0';
  return sg_template_fill(tpl, strlen(tpl), lookup, NULL, out, cap, &n, missing,
                          80);
}

static void fills(void **state) {
  (void)state;
  char out[256], missing[80];
  assert_int_equal(fill("Hello {{name}}, see you in {{ fields.city }}! "
                        "{x} }} {{number}}",
                        out, sizeof out, missing),
                   0);
  assert_string_equal(out, "Hello Zoë, see you in Leeds! {x} }} +447700900001");
  assert_int_equal(fill("", out, sizeof out, missing), 0);
  assert_string_equal(out, "");
  assert_int_equal(
      fill("{{fields.plan}} for {{name}}", out, sizeof out, missing),
      SG_ENOENT);
  assert_string_equal(missing, "fields.plan");
  assert_int_equal(fill("Hello {{name}}", out, 10, missing), SG_ENOSPC);
  assert_int_equal(fill("Hello {{name}}", out, 11, missing), 0);
  assert_string_equal(out, "Hello Zoë");
}

static void syntax(void **state) {
  (void)state;
  char msg[128];
  assert_int_equal(
      sg_template_check("ok {{name}} {{fields.a-b_1}}", 28, msg, sizeof msg),
      0);
  assert_int_equal(sg_template_check("Hi {{nme}}", 10, msg, sizeof msg),
                   SG_EINVAL);
  assert_string_equal(
      msg, "unknown placeholder {{nme}} at offset 3 (use name, number or "
           "fields.KEY)");
  assert_int_equal(sg_template_check("Hi {{name", 9, msg, sizeof msg),
                   SG_EINVAL);
  assert_string_equal(msg, "the placeholder at offset 3 is not closed with }}");
  assert_int_equal(sg_template_check("{{fields.}}", 11, msg, sizeof msg),
                   SG_EINVAL);
  assert_int_equal(sg_template_check("{{fields.a.b}}", 14, msg, sizeof msg),
                   SG_EINVAL);
  assert_int_equal(sg_template_check("{{na me}}", 9, msg, sizeof msg),
                   SG_EINVAL);
  char out[32], missing[80];
  assert_int_equal(fill("{{name", out, sizeof out, missing), SG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fills),
      cmocka_unit_test(syntax),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
