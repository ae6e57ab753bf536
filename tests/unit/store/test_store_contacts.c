/* Tests for store/contacts.h (migration 0014): contacts are created,
 * updated and deleted per account (another account's row is SG_ENOENT, a
 * taken number SG_EEXIST); lists hold contacts many-to-many and count them;
 * an import batch inserts new numbers, reports the ones already there and
 * the ones repeated inside it, and adds all of them to its list; pages
 * follow ids and stay stable while contacts are added; searches by prefix,
 * name and field; opted-out numbers are marked; templates are kept; bad
 * operations are refused at once. */
#include "store_fixture.h"

typedef struct cgot {
  int calls, status;
  int64_t id, next_after;
  size_t n, changed, imported, duplicates;
  int64_t ids[64];
  char numbers[64][24];
  char names[64][32];
  bool opted[64], dup[64];
  uint64_t members[8];
  size_t n_lists;
  int64_t lists[8];
} cgot_t;

static void cres_cb(sg_store_t *st, int status, const sg_store_cres_t *res,
                    void *data) {
  (void)st;
  cgot_t *g = data;
  memset(g, 0, sizeof *g);
  g->calls = 1;
  g->status = status;
  if (res == NULL)
    return;
  g->id = res->id;
  g->next_after = res->next_after;
  g->changed = res->changed;
  g->imported = res->imported;
  g->duplicates = res->duplicates;
  for (size_t i = 0; i < res->n_contacts && i < 64; i++) {
    g->ids[i] = res->contacts[i].id;
    snprintf(g->numbers[i], 24, "%s", res->contacts[i].number);
    snprintf(g->names[i], 32, "%s",
             res->contacts[i].name ? res->contacts[i].name : "-");
    g->opted[i] = res->contacts[i].opted_out;
  }
  g->n = res->n_contacts;
  if (res->n_contacts == 1 && res->contacts[0].lists != NULL) {
    g->n_lists = res->contacts[0].n_lists;
    for (size_t i = 0; i < g->n_lists && i < 8; i++)
      g->lists[i] = res->contacts[0].lists[i];
  }
  if (res->lists != NULL) {
    g->n = res->n_lists;
    for (size_t i = 0; i < res->n_lists && i < 8; i++) {
      g->members[i] = res->lists[i].members;
      snprintf(g->names[i], 32, "%s", res->lists[i].name);
    }
  }
  if (res->templates != NULL) {
    g->n = res->n_templates;
    for (size_t i = 0; i < res->n_templates && i < 8; i++)
      snprintf(g->names[i], 32, "%s", res->templates[i].body);
  }
  for (size_t i = 0;
       res->dup != NULL && i < res->imported + res->duplicates && i < 64; i++)
    g->dup[i] = res->dup[i];
}

static int op_wait(ctx_t *c, const sg_store_cop_t *op, cgot_t *g) {
  memset(g, 0, sizeof *g);
  assert_int_equal(sg_store_contacts(c->st, op, cres_cb, g), 0);
  run_until(c, &g->calls, 1);
  return g->status;
}

static int64_t add_contact(ctx_t *c, int64_t acct, const char *num,
                           const char *name, const char *fields) {
  cgot_t g;
  sg_store_cop_t op = {.kind = SG_STORE_CONTACT_PUT,
                       .account_id = acct,
                       .number = num,
                       .name = name,
                       .fields = fields};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_true(g.id > 0);
  return g.id;
}

static void contacts_crud(void **state) {
  ctx_t *c = *state;
  open_store(c);
  cgot_t g;
  int64_t a = add_contact(c, 1, "+447700900001", "Ann", "{\"city\":\"Leeds\"}");
  int64_t b = add_contact(c, 2, "+447700900001", "Other", NULL);
  assert_true(b > a);

  sg_store_cop_t op = {
      .kind = SG_STORE_CONTACT_PUT, .account_id = 1, .number = "+447700900001"};
  assert_int_equal(op_wait(c, &op, &g), SG_EEXIST);

  op = (sg_store_cop_t){.kind = SG_STORE_CONTACT_GET, .account_id = 1, .id = a};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_string_equal(g.numbers[0], "+447700900001");
  assert_string_equal(g.names[0], "Ann");
  op.id = b; /* account 2's contact, seen from account 1 */
  assert_int_equal(op_wait(c, &op, &g), SG_ENOENT);
  op.account_id = 0; /* the admin's view */
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_string_equal(g.names[0], "Other");

  op = (sg_store_cop_t){
      .kind = SG_STORE_CONTACT_PUT, .account_id = 1, .id = b, .name = "x"};
  assert_int_equal(op_wait(c, &op, &g), SG_ENOENT);
  op.id = a;
  op.name = ""; /* clears the name, keeps the number */
  assert_int_equal(op_wait(c, &op, &g), 0);
  op = (sg_store_cop_t){.kind = SG_STORE_CONTACT_GET, .account_id = 1, .id = a};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_string_equal(g.names[0], "-");
  assert_string_equal(g.numbers[0], "+447700900001");

  op = (sg_store_cop_t){
      .kind = SG_STORE_CONTACT_DELETE, .account_id = 2, .id = a};
  assert_int_equal(op_wait(c, &op, &g), SG_ENOENT);
  op.account_id = 1;
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(op_wait(c, &op, &g), SG_ENOENT);
}

static void lists_and_import(void **state) {
  ctx_t *c = *state;
  open_store(c);
  cgot_t g;
  int64_t k1 = add_contact(c, 1, "+33612345678", "Zoe", NULL);
  sg_store_cop_t op = {
      .kind = SG_STORE_CLIST_PUT, .account_id = 1, .name = "vip"};
  assert_int_equal(op_wait(c, &op, &g), 0);
  int64_t vip = g.id;
  assert_int_equal(op_wait(c, &op, &g), SG_EEXIST);

  sg_store_contact_in_t rows[4] = {
      {"+33612345678", "Zoe again", NULL}, /* already a contact */
      {"+33611111111", "Bob", "{\"plan\":\"gold\"}"},
      {"+33622222222", NULL, NULL},
      {"+33611111111", "Bob twice", NULL}, /* repeated in the batch */
  };
  op = (sg_store_cop_t){.kind = SG_STORE_CONTACT_IMPORT,
                        .account_id = 1,
                        .list_id = vip,
                        .rows = rows,
                        .n_rows = 4};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.imported, 2);
  assert_int_equal(g.duplicates, 2);
  assert_true(g.dup[0] && !g.dup[1] && !g.dup[2] && g.dup[3]);

  op = (sg_store_cop_t){.kind = SG_STORE_CLIST_GET, .account_id = 1, .id = vip};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.members[0], 3); /* Zoe, Bob and the nameless one */

  op =
      (sg_store_cop_t){.kind = SG_STORE_CONTACT_GET, .account_id = 1, .id = k1};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_string_equal(g.names[0], "Zoe"); /* an import never overwrites */
  assert_int_equal(g.n_lists, 1);
  assert_int_equal(g.lists[0], vip);

  /* Removing, then adding back; another account's list is missing. */
  int64_t ids[1] = {k1};
  op = (sg_store_cop_t){.kind = SG_STORE_CLIST_REMOVE,
                        .account_id = 1,
                        .list_id = vip,
                        .ids = ids,
                        .n_ids = 1};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.changed, 1);
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.changed, 0);
  op.kind = SG_STORE_CLIST_ADD;
  op.account_id = 2;
  assert_int_equal(op_wait(c, &op, &g), SG_ENOENT);
  op.account_id = 1;
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.changed, 1);

  /* Members only, then the list deleted with its memberships. */
  op = (sg_store_cop_t){
      .kind = SG_STORE_CONTACT_LIST, .account_id = 1, .list_id = vip};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 3);
  op = (sg_store_cop_t){
      .kind = SG_STORE_CLIST_DELETE, .account_id = 1, .id = vip};
  assert_int_equal(op_wait(c, &op, &g), 0);
  op =
      (sg_store_cop_t){.kind = SG_STORE_CONTACT_GET, .account_id = 1, .id = k1};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n_lists, 0);

  /* An import into a missing list writes nothing. */
  op = (sg_store_cop_t){.kind = SG_STORE_CONTACT_IMPORT,
                        .account_id = 1,
                        .list_id = vip,
                        .rows = &rows[2],
                        .n_rows = 1};
  assert_int_equal(op_wait(c, &op, &g), SG_ENOENT);
}

static void pages_and_search(void **state) {
  ctx_t *c = *state;
  open_store(c);
  cgot_t g;
  char num[24];
  for (int i = 0; i < 25; i++) {
    snprintf(num, sizeof num, "+4420%08d", i);
    add_contact(c, 1, num, i % 2 ? "Odd Smith" : "even_50%",
                i == 7 ? "{\"team\":\"blue\"}" : NULL);
  }
  add_contact(c, 1, "+4930123456", "Berlin", NULL);
  add_contact(c, 2, "+4420999999", "Not mine", NULL);

  sg_store_cop_t op = {
      .kind = SG_STORE_CONTACT_LIST, .account_id = 1, .limit = 10};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 10);
  int64_t first_page_last = g.ids[9];
  assert_int_equal(g.next_after, first_page_last);
  /* Inserts between pages do not move the next page. */
  add_contact(c, 1, "+4420777777", "Late", NULL);
  op.after = g.next_after;
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 10);
  assert_true(g.ids[0] > first_page_last);
  assert_string_equal(g.numbers[0], "+442000000010");
  op.after = g.next_after;
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 7); /* 5 left, Berlin, Late */
  assert_int_equal(g.next_after, 0);

  op = (sg_store_cop_t){.kind = SG_STORE_CONTACT_LIST,
                        .account_id = 1,
                        .prefix = "+4420",
                        .limit = 100};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 26);
  op.prefix = "+49";
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 1);
  op.prefix = NULL;
  op.name_like = "smith"; /* case ignored */
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 12);
  op.name_like = "50%"; /* LIKE's characters are literal */
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 13);
  op.name_like = NULL;
  op.field_key = "team";
  op.field_value = "blue";
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 1);
  assert_string_equal(g.numbers[0], "+442000000007");
  op.account_id = 0; /* the admin sees every account */
  op.field_key = NULL;
  op.prefix = "+4420";
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 27);
}

static void id_cb(sg_store_t *st, int status, int64_t id, void *data) {
  (void)st;
  (void)id;
  cgot_t *g = data;
  g->calls++;
  g->status = status;
}

static void optouts_marked(void **state) {
  ctx_t *c = *state;
  open_store(c);
  cgot_t g;
  int64_t k = add_contact(c, 1, "+14155550100", "Stop", NULL);
  add_contact(c, 1, "+14155550101", "Go", NULL);
  memset(&g, 0, sizeof g);
  assert_int_equal(
      sg_store_optout_set(c->st, 1, "+14155550100", true, "api", id_cb, &g), 0);
  run_until(c, &g.calls, 1);
  assert_int_equal(g.status, 0);
  sg_store_cop_t op = {.kind = SG_STORE_CONTACT_LIST, .account_id = 1};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 2);
  assert_true(g.opted[0]);
  assert_false(g.opted[1]);
  op = (sg_store_cop_t){.kind = SG_STORE_CONTACT_GET, .account_id = 1, .id = k};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_true(g.opted[0]);
}

static void templates_kept(void **state) {
  ctx_t *c = *state;
  open_store(c);
  cgot_t g;
  sg_store_cop_t op = {.kind = SG_STORE_TEMPLATE_PUT,
                       .account_id = 1,
                       .name = "hello",
                       .body = "Hello {{name}}"};
  assert_int_equal(op_wait(c, &op, &g), 0);
  int64_t t = g.id;
  assert_int_equal(op_wait(c, &op, &g), SG_EEXIST);
  op = (sg_store_cop_t){.kind = SG_STORE_TEMPLATE_PUT,
                        .account_id = 1,
                        .id = t,
                        .body = "Hi {{name}}"};
  assert_int_equal(op_wait(c, &op, &g), 0);
  op =
      (sg_store_cop_t){.kind = SG_STORE_TEMPLATE_GET, .account_id = 1, .id = t};
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_string_equal(g.names[0], "Hi {{name}}");
  op.account_id = 2;
  assert_int_equal(op_wait(c, &op, &g), SG_ENOENT);
  op = (sg_store_cop_t){
      .kind = SG_STORE_TEMPLATE_DELETE, .account_id = 1, .id = t};
  assert_int_equal(op_wait(c, &op, &g), 0);
  op.kind = SG_STORE_TEMPLATE_LIST;
  assert_int_equal(op_wait(c, &op, &g), 0);
  assert_int_equal(g.n, 0);
}

static void bad_ops_refused(void **state) {
  ctx_t *c = *state;
  open_store(c);
  cgot_t g;
  sg_store_cop_t bad[] = {
      {.kind = SG_STORE_CONTACT_PUT, .account_id = 0, .number = "+1"},
      {.kind = SG_STORE_CONTACT_PUT, .account_id = 1},
      {.kind = SG_STORE_CONTACT_GET, .account_id = 1},
      {.kind = SG_STORE_CLIST_PUT, .account_id = 1, .name = ""},
      {.kind = SG_STORE_CLIST_ADD, .account_id = 1, .list_id = 1},
      {.kind = SG_STORE_CONTACT_IMPORT, .account_id = 1},
      {.kind = SG_STORE_CONTACT_LIST, .account_id = 1, .limit = 1001},
      {.kind = SG_STORE_CONTACT_LIST,
       .account_id = 1,
       .field_key = "a.b",
       .field_value = "x"},
      {.kind = SG_STORE_CONTACT_LIST, .account_id = 1, .field_key = "a"},
      {.kind = (sg_store_cop_kind_t)99, .account_id = 1},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(sg_store_contacts(c->st, &bad[i], cres_cb, &g), SG_EINVAL);
  assert_int_equal(sg_store_contacts(c->st, NULL, cres_cb, &g), SG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(contacts_crud, setup, teardown),
      cmocka_unit_test_setup_teardown(lists_and_import, setup, teardown),
      cmocka_unit_test_setup_teardown(pages_and_search, setup, teardown),
      cmocka_unit_test_setup_teardown(optouts_marked, setup, teardown),
      cmocka_unit_test_setup_teardown(templates_kept, setup, teardown),
      cmocka_unit_test_setup_teardown(bad_ops_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
