/* pg_contacts.c - the PostgreSQL side of store_contacts.c (tables of
 * migration 0014): contacts, contact lists and their members, templates,
 * and import batches, with the rows and answers of sqlite_contacts.c.
 *
 * Writes run on the writer inside the group's transaction; a write that
 * fails (SG_ENOENT, SG_EEXIST) either fails before it changed a row or is
 * undone by the writer's rerun. Reads run on a reader. A contact's fields
 * are a JSON object kept as text, read with jsonb; a name search is
 * case-insensitive like SQLite's LIKE; number ranges and orders compare
 * bytes (COLLATE "C"), as SQLite does. This file must never check a
 * number's syntax or a document's meaning: the engine hands them over
 * normalised.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/contacts_int.h"
#include "store/pg_kinds.h"

#define LISTS_MAX 1000 /* lists or templates in one read */

/* 0 when the row `id` of the table that sql reads belongs to account, else
 * SG_ENOENT or the error. */
static int owned(sg__pg_conn_t *c, const char *sql, int64_t id,
                 int64_t account) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, id);
  sg__pg_p_i64(&p, account);
  int64_t v = 0;
  int rc = sg__pg_one(c, sql, &p, &v);
  return rc < 0 ? rc : rc == 1 ? 0 : SG_ENOENT;
}

#define OWNED_LIST                                                             \
  "SELECT id FROM contact_lists WHERE id = $1 AND account_id = $2"
#define OWNED_CONTACT                                                          \
  "SELECT id FROM contacts WHERE id = $1 AND account_id = $2"

/* An insert's new id (its RETURNING id), or an update's SG_ENOENT when it
 * found no row; q->res.id set either way. */
static int put_result(sg__pg_conn_t *c, sg__contacts_req_t *q, const char *sql,
                      const sg__pg_params_t *p) {
  int64_t id = 0;
  int rc = sg__pg_one(c, sql, p, &id);
  if (rc < 0)
    return rc;
  if (q->op.id != 0) {
    q->res.id = q->op.id;
    return rc == 1 ? 0 : SG_ENOENT;
  }
  q->res.id = id;
  return rc == 1 ? 0 : SG_EIO;
}

/* ---- contacts ------------------------------------------------------------ */

static int contact_put(sg__pg_conn_t *c, sg__contacts_req_t *q, int64_t now) {
  const sg_store_cop_t *op = &q->op;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, op->account_id);
  sg__pg_p_text(&p, op->number);
  sg__pg_p_text(&p, op->name);
  sg__pg_p_text(&p, op->fields);
  sg__pg_p_i64(&p, now);
  if (op->id == 0)
    return put_result(
        c, q,
        "INSERT INTO contacts (account_id, number, name, fields, "
        "created_ms, updated_ms) VALUES ($1, $2, NULLIF($3::text, "
        "''), COALESCE($4::text, '{}'), $5, $5) RETURNING id",
        &p);
  sg__pg_p_i64(&p, op->id);
  return put_result(c, q,
                    "UPDATE contacts SET number = COALESCE($2::text, number), "
                    "name = CASE WHEN $3::text IS NULL THEN name ELSE "
                    "NULLIF($3::text, '') END, fields = COALESCE($4::text, "
                    "fields), updated_ms = $5 WHERE id = $6 AND account_id = "
                    "$1 RETURNING id",
                    &p);
}

/* Deletes the row (del: its statement) and then its memberships (mem, may
 * be NULL). */
static int delete_with_members(sg__pg_conn_t *c, const sg_store_cop_t *op,
                               const char *del, const char *mem) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, op->id);
  sg__pg_p_i64(&p, op->account_id);
  uint64_t n = 0;
  int rc = sg__pg_do(c, del, &p, &n);
  if (rc == 0 && n == 0)
    rc = SG_ENOENT;
  if (rc != 0 || mem == NULL)
    return rc;
  sg__pg_params_t q = {0};
  sg__pg_p_i64(&q, op->id);
  return sg__pg_do(c, mem, &q, NULL);
}

/* ---- lists --------------------------------------------------------------- */

static int clist_put(sg__pg_conn_t *c, sg__contacts_req_t *q, int64_t now) {
  const sg_store_cop_t *op = &q->op;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, op->account_id);
  sg__pg_p_text(&p, op->name);
  sg__pg_p_i64(&p, now);
  if (op->id == 0)
    return put_result(c, q,
                      "INSERT INTO contact_lists (account_id, name, "
                      "created_ms, updated_ms) VALUES ($1, $2, $3, $3) "
                      "RETURNING id",
                      &p);
  sg__pg_p_i64(&p, op->id);
  return put_result(c, q,
                    "UPDATE contact_lists SET name = $2, updated_ms = $3 "
                    "WHERE id = $4 AND account_id = $1 RETURNING id",
                    &p);
}

static int clist_members(sg__pg_conn_t *c, sg__contacts_req_t *q, int64_t now,
                         bool add) {
  const sg_store_cop_t *op = &q->op;
  int rc = owned(c, OWNED_LIST, op->list_id, op->account_id);
  for (size_t i = 0; rc == 0 && add && i < op->n_ids; i++)
    rc = owned(c, OWNED_CONTACT, op->ids[i], op->account_id);
  for (size_t i = 0; rc == 0 && i < op->n_ids; i++) {
    sg__pg_params_t p = {0};
    sg__pg_p_i64(&p, op->list_id);
    sg__pg_p_i64(&p, op->ids[i]);
    if (add)
      sg__pg_p_i64(&p, now);
    uint64_t n = 0;
    rc = sg__pg_do(c,
                   add ? "INSERT INTO list_members (list_id, contact_id, "
                         "added_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
                       : "DELETE FROM list_members WHERE list_id = $1 AND "
                         "contact_id = $2",
                   &p, &n);
    q->res.changed += (size_t)n;
  }
  return rc;
}

/* ---- templates ----------------------------------------------------------- */

static int template_put(sg__pg_conn_t *c, sg__contacts_req_t *q, int64_t now) {
  const sg_store_cop_t *op = &q->op;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, op->account_id);
  sg__pg_p_text(&p, op->name);
  sg__pg_p_text(&p, op->body);
  sg__pg_p_i64(&p, now);
  if (op->id == 0)
    return put_result(c, q,
                      "INSERT INTO templates (account_id, name, body, "
                      "created_ms, updated_ms) VALUES ($1, $2, $3, $4, $4) "
                      "RETURNING id",
                      &p);
  sg__pg_p_i64(&p, op->id);
  return put_result(c, q,
                    "UPDATE templates SET name = COALESCE($2::text, name), "
                    "body = COALESCE($3::text, body), updated_ms = $4 WHERE "
                    "id = $5 AND account_id = $1 RETURNING id",
                    &p);
}

/* ---- import -------------------------------------------------------------- */

static int import_row(sg__pg_conn_t *c, const sg_store_cop_t *op, size_t i,
                      int64_t now, bool *dup) {
  const sg_store_contact_in_t *row = &op->rows[i];
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, op->account_id);
  sg__pg_p_text(&p, row->number);
  sg__pg_p_text(&p, row->name);
  sg__pg_p_text(&p, row->fields);
  sg__pg_p_i64(&p, now);
  uint64_t n = 0;
  int rc = sg__pg_do(c,
                     "INSERT INTO contacts (account_id, number, name, fields, "
                     "created_ms, updated_ms) VALUES ($1, $2, NULLIF($3::text, "
                     "''), COALESCE($4::text, '{}'), $5, $5) ON CONFLICT "
                     "(account_id, number) DO NOTHING",
                     &p, &n);
  if (rc != 0)
    return rc;
  *dup = n == 0;
  if (op->list_id <= 0)
    return 0;
  sg__pg_params_t m = {0};
  sg__pg_p_i64(&m, op->list_id);
  sg__pg_p_i64(&m, op->account_id);
  sg__pg_p_text(&m, row->number);
  sg__pg_p_i64(&m, now);
  return sg__pg_do(c,
                   "INSERT INTO list_members (list_id, contact_id, added_ms) "
                   "SELECT $1, id, $4 FROM contacts WHERE account_id = $2 AND "
                   "number = $3 ON CONFLICT DO NOTHING",
                   &m, NULL);
}

static int import(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__contacts_req_t *q = r->in.contacts;
  const sg_store_cop_t *op = &q->op;
  if (op->list_id > 0) {
    int rc = owned(c, OWNED_LIST, op->list_id, op->account_id);
    if (rc != 0)
      return rc;
  }
  bool *dup =
      sg__arena_alloc(&r->arena, (op->n_rows ? op->n_rows : 1) * sizeof *dup);
  if (dup == NULL)
    return SG_ENOMEM;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < op->n_rows; i++) {
    dup[i] = false;
    rc = import_row(c, op, i, now, &dup[i]);
    if (dup[i])
      q->res.duplicates++;
    else
      q->res.imported++;
  }
  q->res.dup = dup;
  return rc;
}

int sg__pg_contacts_write(sg__pg_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__contacts_req_t *q = r->in.contacts;
  memset(&q->res, 0, sizeof q->res);
  switch (q->op.kind) {
  case SG_STORE_CONTACT_PUT:
    return contact_put(c, q, now);
  case SG_STORE_CONTACT_DELETE:
    return delete_with_members(
        c, &q->op, "DELETE FROM contacts WHERE id = $1 AND account_id = $2",
        "DELETE FROM list_members WHERE contact_id = $1");
  case SG_STORE_CLIST_PUT:
    return clist_put(c, q, now);
  case SG_STORE_CLIST_DELETE:
    return delete_with_members(
        c, &q->op,
        "DELETE FROM contact_lists WHERE id = $1 AND account_id = $2",
        "DELETE FROM list_members WHERE list_id = $1");
  case SG_STORE_CLIST_ADD:
  case SG_STORE_CLIST_REMOVE:
    return clist_members(c, q, now, q->op.kind == SG_STORE_CLIST_ADD);
  case SG_STORE_TEMPLATE_PUT:
    return template_put(c, q, now);
  case SG_STORE_TEMPLATE_DELETE:
    return delete_with_members(
        c, &q->op, "DELETE FROM templates WHERE id = $1 AND account_id = $2",
        NULL);
  case SG_STORE_CONTACT_IMPORT:
    return import(c, r, now);
  default:
    return SG_EINVAL;
  }
}

/* ---- reads --------------------------------------------------------------- */

#define CONTACT_COLS                                                           \
  "c.id, c.account_id, c.number, c.name, c.fields, c.created_ms, "             \
  "c.updated_ms, EXISTS (SELECT 1 FROM optouts o WHERE o.account_id = "        \
  "c.account_id AND o.number = c.number)"

static void read_contact(sg__arena_t *a, const PGresult *res, int row,
                         sg_store_contact_t *k, bool *ok) {
  k->id = sg__pg_i64(res, row, 0);
  k->account_id = sg__pg_i64(res, row, 1);
  k->number = sg__pg_text(a, res, row, 2, ok);
  k->name = sg__pg_text(a, res, row, 3, ok);
  k->fields = sg__pg_text(a, res, row, 4, ok);
  k->created_ms = sg__pg_i64(res, row, 5);
  k->updated_ms = sg__pg_i64(res, row, 6);
  k->opted_out = PQgetvalue(res, row, 7)[0] == 't';
}

static int contact_lists_of(sg__pg_conn_t *c, sg__arena_t *a,
                            sg_store_contact_t *k) {
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, k->id);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT list_id FROM list_members WHERE "
                             "contact_id = $1 ORDER BY list_id LIMIT 1000",
                             &p, &rc);
  int64_t *ids = sg__arena_alloc(a, 1000 * sizeof *ids);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  for (size_t i = 0; ids != NULL && i < n; i++)
    ids[i] = sg__pg_i64(res, (int)i, 0);
  PQclear(res);
  if (rc < 0 || ids == NULL)
    return rc < 0 ? rc : SG_ENOMEM;
  k->lists = ids;
  k->n_lists = n;
  return 0;
}

static int contact_get(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__contacts_req_t *q = r->in.contacts;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, q->op.id);
  sg__pg_p_i64(&p, q->op.account_id);
  int rc;
  PGresult *res = sg__pg_run(c,
                             "SELECT " CONTACT_COLS " FROM contacts c WHERE "
                             "c.id = $1 AND ($2::bigint = 0 OR c.account_id "
                             "= $2)",
                             &p, &rc);
  sg_store_contact_t *k = sg__arena_alloc(&r->arena, sizeof *k);
  bool found = rc == 0 && PQntuples(res) > 0, ok = k != NULL;
  if (found && ok)
    read_contact(&r->arena, res, 0, k, &ok);
  PQclear(res);
  if (rc < 0)
    return rc;
  if (!found)
    return SG_ENOENT;
  if (!ok)
    return SG_ENOMEM;
  q->res.contacts = k;
  q->res.n_contacts = 1;
  return contact_lists_of(c, &r->arena, k);
}

/* "%text%" with LIKE's own characters escaped. */
static char *like_pattern(sg__arena_t *a, const char *t) {
  char *p = sg__arena_alloc(a, 2 * strlen(t) + 3);
  if (p == NULL)
    return NULL;
  size_t j = 0;
  p[j++] = '%';
  for (; *t; t++) {
    if (*t == '%' || *t == '_' || *t == '\\')
      p[j++] = '\\';
    p[j++] = *t;
  }
  p[j++] = '%';
  p[j] = '\0';
  return p;
}

/* The parameters of a contact search ($1 account .. $9 field value); the
 * filters op does not have are NULL (or 0) and match everything. */
static int list_params(sg__arena_t *a, const sg_store_cop_t *op,
                       sg__pg_params_t *p) {
  char *hi = NULL, *like = NULL;
  if (op->prefix != NULL) {
    size_t n = strlen(op->prefix);
    if ((hi = sg__arena_alloc(a, n + 2)) == NULL)
      return SG_ENOMEM;
    memcpy(hi, op->prefix, n + 1);
    if (n == 0)
      memcpy(hi, "\x7f", 2);
    else
      hi[n - 1]++; /* the first text after every text with the prefix */
  }
  if (op->name_like != NULL && (like = like_pattern(a, op->name_like)) == NULL)
    return SG_ENOMEM;
  sg__pg_p_i64(p, op->account_id);
  sg__pg_p_i64(p, op->list_id);
  sg__pg_p_text(p, op->prefix);
  sg__pg_p_text(p, hi);
  sg__pg_p_text(p, like);
  sg__pg_p_text(p, op->field_key);
  sg__pg_p_i64(p, op->after);
  sg__pg_p_i64(p, (int64_t)op->limit + 1);
  sg__pg_p_text(p, op->field_key != NULL ? op->field_value : NULL);
  return 0;
}

/* json_extract() = value on SQLite matches string values only. */
static const char list_sql[] =
    "SELECT " CONTACT_COLS " FROM contacts c WHERE c.id > $7 AND ($1::bigint "
    "= 0 OR c.account_id = $1) AND ($2::bigint = 0 OR EXISTS (SELECT 1 FROM "
    "list_members m WHERE m.contact_id = c.id AND m.list_id = $2)) AND "
    "($3::text IS NULL OR (c.number COLLATE \"C\" >= $3::text AND c.number "
    "COLLATE \"C\" < $4::text)) AND ($5::text IS NULL OR c.name ILIKE $5 "
    "ESCAPE '\\') AND ($6::text IS NULL OR (jsonb_typeof(c.fields::jsonb -> "
    "$6::text) = 'string' AND c.fields::jsonb ->> $6::text = $9::text)) "
    "ORDER BY c.id LIMIT $8";

static int contact_list(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__contacts_req_t *q = r->in.contacts;
  sg__pg_params_t p = {0};
  int rc = list_params(&r->arena, &q->op, &p);
  if (rc < 0)
    return rc;
  PGresult *res = sg__pg_run(c, list_sql, &p, &rc);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  sg_store_contact_t *k =
      sg__arena_alloc(&r->arena, (q->op.limit + 1) * sizeof *k);
  bool ok = k != NULL;
  for (size_t i = 0; ok && i < n && i <= q->op.limit; i++)
    read_contact(&r->arena, res, (int)i, &k[i], &ok);
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  if (n > q->op.limit) {
    n = q->op.limit;
    q->res.next_after = k[n - 1].id;
  }
  q->res.contacts = k;
  q->res.n_contacts = n;
  return 0;
}

static int clist_read(sg__pg_conn_t *c, sg__store_req_t *r, bool one) {
  sg__contacts_req_t *q = r->in.contacts;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, q->op.account_id);
  sg__pg_p_i64(&p, one ? q->op.id : 0);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT l.id, l.account_id, l.name, (SELECT count(*) FROM list_members "
      "m WHERE m.list_id = l.id), l.created_ms, l.updated_ms FROM "
      "contact_lists l WHERE ($1::bigint = 0 OR l.account_id = $1) AND "
      "($2::bigint = 0 OR l.id = $2) ORDER BY l.id LIMIT 1000",
      &p, &rc);
  sg_store_clist_t *l = sg__arena_alloc(&r->arena, LISTS_MAX * sizeof *l);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  bool ok = l != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    sg_store_clist_t *x = &l[i];
    x->id = sg__pg_i64(res, (int)i, 0);
    x->account_id = sg__pg_i64(res, (int)i, 1);
    x->name = sg__pg_text(&r->arena, res, (int)i, 2, &ok);
    x->members = (uint64_t)sg__pg_i64(res, (int)i, 3);
    x->created_ms = sg__pg_i64(res, (int)i, 4);
    x->updated_ms = sg__pg_i64(res, (int)i, 5);
  }
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  q->res.lists = l;
  q->res.n_lists = n;
  return one && n == 0 ? SG_ENOENT : 0;
}

static int template_read(sg__pg_conn_t *c, sg__store_req_t *r, bool one) {
  sg__contacts_req_t *q = r->in.contacts;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, q->op.account_id);
  sg__pg_p_i64(&p, one ? q->op.id : 0);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT id, account_id, name, body, created_ms, updated_ms FROM "
      "templates WHERE ($1::bigint = 0 OR account_id = $1) AND ($2::bigint = "
      "0 OR id = $2) ORDER BY id LIMIT 1000",
      &p, &rc);
  sg_store_template_t *t = sg__arena_alloc(&r->arena, LISTS_MAX * sizeof *t);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  bool ok = t != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    sg_store_template_t *x = &t[i];
    x->id = sg__pg_i64(res, (int)i, 0);
    x->account_id = sg__pg_i64(res, (int)i, 1);
    x->name = sg__pg_text(&r->arena, res, (int)i, 2, &ok);
    x->body = sg__pg_text(&r->arena, res, (int)i, 3, &ok);
    x->created_ms = sg__pg_i64(res, (int)i, 4);
    x->updated_ms = sg__pg_i64(res, (int)i, 5);
  }
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  q->res.templates = t;
  q->res.n_templates = n;
  return one && n == 0 ? SG_ENOENT : 0;
}

static int contact_keys(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__contacts_req_t *q = r->in.contacts;
  sg__pg_params_t p = {0};
  sg__pg_p_i64(&p, q->op.account_id);
  sg__pg_p_i64(&p, q->op.list_id);
  int rc;
  PGresult *res = sg__pg_run(
      c,
      "SELECT DISTINCT j.key COLLATE \"C\" FROM contacts c, jsonb_each(CASE "
      "WHEN jsonb_typeof(c.fields::jsonb) = 'object' THEN c.fields::jsonb "
      "ELSE '{}'::jsonb END) j WHERE ($1::bigint = 0 OR c.account_id = $1) "
      "AND ($2::bigint = 0 OR c.id IN (SELECT contact_id FROM list_members "
      "WHERE list_id = $2)) ORDER BY 1 LIMIT 64",
      &p, &rc);
  const char **keys = sg__arena_alloc(&r->arena, 64 * sizeof *keys);
  size_t n = rc == 0 ? (size_t)PQntuples(res) : 0;
  bool ok = keys != NULL;
  for (size_t i = 0; ok && i < n; i++)
    keys[i] = sg__pg_text(&r->arena, res, (int)i, 0, &ok);
  PQclear(res);
  if (rc < 0 || !ok)
    return rc < 0 ? rc : SG_ENOMEM;
  q->res.keys = keys;
  q->res.n_keys = n;
  return 0;
}

int sg__pg_contacts_read(sg__pg_conn_t *c, sg__store_req_t *r) {
  sg__contacts_req_t *q = r->in.contacts;
  memset(&q->res, 0, sizeof q->res);
  switch (q->op.kind) {
  case SG_STORE_CONTACT_GET:
    return contact_get(c, r);
  case SG_STORE_CONTACT_LIST:
    return contact_list(c, r);
  case SG_STORE_CLIST_GET:
  case SG_STORE_CLIST_LIST:
    return clist_read(c, r, q->op.kind == SG_STORE_CLIST_GET);
  case SG_STORE_TEMPLATE_GET:
  case SG_STORE_TEMPLATE_LIST:
    return template_read(c, r, q->op.kind == SG_STORE_TEMPLATE_GET);
  case SG_STORE_CONTACT_KEYS:
    return contact_keys(c, r);
  default:
    return SG_EINVAL;
  }
}
