/* sqlite_contacts.c - the SQLite side of store_contacts.c (tables of
 * migration 0014): contacts, contact lists and their members, templates,
 * and import batches.
 *
 * Writes run on the writer thread inside the group's transaction; a write
 * that fails (SG_ENOENT, SG_EEXIST) either fails before it changed a row or
 * is undone by the writer's rerun. Reads run on a reader connection.
 * Statements are prepared per call (an import prepares its two once per
 * batch). This file must never check a number's syntax or a document's
 * meaning: the engine hands them over normalised.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "store/contacts_int.h"
#include "store/sqlite_int.h"

#define LISTS_MAX 1000 /* lists or templates in one read */

static sqlite3_stmt *prep(sg__sq_conn_t *c, const char *sql) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
    sqlite3_finalize(s);
    return NULL;
  }
  return s;
}

/* Runs s to its end and finalizes it. */
static int run_done(sqlite3_stmt *s) {
  if (s == NULL)
    return SG_EIO;
  int rc = sg__sq_step_done(s);
  sqlite3_finalize(s);
  return sg__sq_err(rc);
}

/* The first column of the first row of s as an integer (finalized), or
 * SG_ENOENT when there is no row. */
static int one_int(sqlite3_stmt *s, int64_t *out) {
  if (s == NULL)
    return SG_EIO;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
}

static int owned(sg__sq_conn_t *c, const char *table, int64_t id,
                 int64_t account) {
  char sql[128];
  snprintf(sql, sizeof sql,
           "SELECT id FROM %s WHERE id = ?1 AND account_id = ?2", table);
  sqlite3_stmt *s = prep(c, sql);
  if (s != NULL) {
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, account);
  }
  int64_t v;
  return one_int(s, &v);
}

static int changes_or_enoent(sg__sq_conn_t *c, int rc) {
  if (rc == 0 && sqlite3_changes(c->db) == 0)
    return SG_ENOENT;
  return rc;
}

/* ---- contacts ------------------------------------------------------------ */

static int contact_put(sg__sq_conn_t *c, sg__contacts_req_t *q, int64_t now) {
  const sg_store_cop_t *op = &q->op;
  sqlite3_stmt *s;
  if (op->id == 0) {
    s = prep(c, "INSERT INTO contacts (account_id, number, name, fields, "
                "created_ms, updated_ms) VALUES (?1, ?2, NULLIF(?3, ''), "
                "COALESCE(?4, '{}'), ?5, ?5)");
  } else {
    s = prep(c, "UPDATE contacts SET number = COALESCE(?2, number), name = "
                "CASE WHEN ?3 IS NULL THEN name ELSE NULLIF(?3, '') END, "
                "fields = COALESCE(?4, fields), updated_ms = ?5 "
                "WHERE id = ?6 AND account_id = ?1");
  }
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, op->account_id);
  sg__sq_bind_text(s, 2, op->number);
  sg__sq_bind_text(s, 3, op->name);
  sg__sq_bind_text(s, 4, op->fields);
  sqlite3_bind_int64(s, 5, now);
  if (op->id != 0)
    sqlite3_bind_int64(s, 6, op->id);
  int rc = run_done(s);
  if (op->id != 0) {
    q->res.id = op->id;
    return changes_or_enoent(c, rc);
  }
  if (rc == 0)
    q->res.id = sqlite3_last_insert_rowid(c->db);
  return rc;
}

/* Deletes the row of `table` and then its memberships (by `member_col`). */
static int delete_with_members(sg__sq_conn_t *c, const sg_store_cop_t *op,
                               const char *table, const char *member_col) {
  char sql[160];
  snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = ?1 AND account_id = ?2",
           table);
  sqlite3_stmt *s = prep(c, sql);
  if (s != NULL) {
    sqlite3_bind_int64(s, 1, op->id);
    sqlite3_bind_int64(s, 2, op->account_id);
  }
  int rc = changes_or_enoent(c, run_done(s));
  if (rc != 0 || member_col == NULL)
    return rc;
  snprintf(sql, sizeof sql, "DELETE FROM list_members WHERE %s = ?1",
           member_col);
  s = prep(c, sql);
  if (s != NULL)
    sqlite3_bind_int64(s, 1, op->id);
  return run_done(s);
}

/* ---- lists --------------------------------------------------------------- */

static int clist_put(sg__sq_conn_t *c, sg__contacts_req_t *q, int64_t now) {
  const sg_store_cop_t *op = &q->op;
  sqlite3_stmt *s =
      op->id == 0 ? prep(c, "INSERT INTO contact_lists (account_id, name, "
                            "created_ms, updated_ms) VALUES (?1, ?2, ?3, ?3)")
                  : prep(c, "UPDATE contact_lists SET name = ?2, updated_ms "
                            "= ?3 WHERE id = ?4 AND account_id = ?1");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, op->account_id);
  sg__sq_bind_text(s, 2, op->name);
  sqlite3_bind_int64(s, 3, now);
  if (op->id != 0)
    sqlite3_bind_int64(s, 4, op->id);
  int rc = run_done(s);
  if (op->id != 0) {
    q->res.id = op->id;
    return changes_or_enoent(c, rc);
  }
  if (rc == 0)
    q->res.id = sqlite3_last_insert_rowid(c->db);
  return rc;
}

static int member_change(sg__sq_conn_t *c, sqlite3_stmt *s, int64_t list,
                         int64_t contact, int64_t now, size_t *changed) {
  sqlite3_reset(s);
  sqlite3_bind_int64(s, 1, list);
  sqlite3_bind_int64(s, 2, contact);
  if (sqlite3_bind_parameter_count(s) >= 3)
    sqlite3_bind_int64(s, 3, now);
  int rc = sg__sq_err(sg__sq_step_done(s));
  if (rc == 0)
    *changed += (size_t)sqlite3_changes(c->db);
  return rc;
}

static int clist_members(sg__sq_conn_t *c, sg__contacts_req_t *q, int64_t now,
                         bool add) {
  const sg_store_cop_t *op = &q->op;
  int rc = owned(c, "contact_lists", op->list_id, op->account_id);
  for (size_t i = 0; rc == 0 && add && i < op->n_ids; i++)
    rc = owned(c, "contacts", op->ids[i], op->account_id);
  if (rc != 0)
    return rc;
  sqlite3_stmt *s =
      add ? prep(c, "INSERT OR IGNORE INTO list_members (list_id, "
                    "contact_id, added_ms) VALUES (?1, ?2, ?3)")
          : prep(c, "DELETE FROM list_members WHERE list_id = ?1 AND "
                    "contact_id = ?2");
  if (s == NULL)
    return SG_EIO;
  for (size_t i = 0; rc == 0 && i < op->n_ids; i++)
    rc = member_change(c, s, op->list_id, op->ids[i], now, &q->res.changed);
  sqlite3_finalize(s);
  return rc;
}

/* ---- templates ----------------------------------------------------------- */

static int template_put(sg__sq_conn_t *c, sg__contacts_req_t *q, int64_t now) {
  const sg_store_cop_t *op = &q->op;
  sqlite3_stmt *s =
      op->id == 0
          ? prep(c, "INSERT INTO templates (account_id, name, body, "
                    "created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?4)")
          : prep(c, "UPDATE templates SET name = COALESCE(?2, name), body = "
                    "COALESCE(?3, body), updated_ms = ?4 WHERE id = ?5 AND "
                    "account_id = ?1");
  if (s == NULL)
    return SG_EIO;
  sqlite3_bind_int64(s, 1, op->account_id);
  sg__sq_bind_text(s, 2, op->name);
  sg__sq_bind_text(s, 3, op->body);
  sqlite3_bind_int64(s, 4, now);
  if (op->id != 0)
    sqlite3_bind_int64(s, 5, op->id);
  int rc = run_done(s);
  if (op->id != 0) {
    q->res.id = op->id;
    return changes_or_enoent(c, rc);
  }
  if (rc == 0)
    q->res.id = sqlite3_last_insert_rowid(c->db);
  return rc;
}

/* ---- import -------------------------------------------------------------- */

static int import_row(sg__sq_conn_t *c, sqlite3_stmt *ins, sqlite3_stmt *mem,
                      const sg_store_cop_t *op, size_t i, int64_t now,
                      bool *dup) {
  const sg_store_contact_in_t *row = &op->rows[i];
  sqlite3_reset(ins);
  sqlite3_bind_int64(ins, 1, op->account_id);
  sg__sq_bind_text(ins, 2, row->number);
  sg__sq_bind_text(ins, 3, row->name);
  sg__sq_bind_text(ins, 4, row->fields);
  sqlite3_bind_int64(ins, 5, now);
  int rc = sg__sq_err(sg__sq_step_done(ins));
  if (rc != 0)
    return rc;
  *dup = sqlite3_changes(c->db) == 0;
  if (mem == NULL)
    return 0;
  sqlite3_reset(mem);
  sqlite3_bind_int64(mem, 1, op->list_id);
  sqlite3_bind_int64(mem, 2, op->account_id);
  sg__sq_bind_text(mem, 3, row->number);
  sqlite3_bind_int64(mem, 4, now);
  return sg__sq_err(sg__sq_step_done(mem));
}

static int import(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__contacts_req_t *q = r->in.contacts;
  const sg_store_cop_t *op = &q->op;
  if (op->list_id > 0) {
    int rc = owned(c, "contact_lists", op->list_id, op->account_id);
    if (rc != 0)
      return rc;
  }
  bool *dup = sg__arena_alloc(&r->arena, op->n_rows * sizeof *dup);
  if (dup == NULL)
    return SG_ENOMEM;
  sqlite3_stmt *ins =
      prep(c, "INSERT INTO contacts (account_id, number, name, fields, "
              "created_ms, updated_ms) VALUES (?1, ?2, NULLIF(?3, ''), "
              "COALESCE(?4, '{}'), ?5, ?5) ON CONFLICT (account_id, number) "
              "DO NOTHING");
  sqlite3_stmt *mem =
      op->list_id > 0
          ? prep(c, "INSERT OR IGNORE INTO list_members (list_id, "
                    "contact_id, added_ms) SELECT ?1, id, ?4 FROM contacts "
                    "WHERE account_id = ?2 AND number = ?3")
          : NULL;
  int rc = ins == NULL || (op->list_id > 0 && mem == NULL) ? SG_EIO : 0;
  for (size_t i = 0; rc == 0 && i < op->n_rows; i++) {
    rc = import_row(c, ins, mem, op, i, now, &dup[i]);
    if (dup[i])
      q->res.duplicates++;
    else
      q->res.imported++;
  }
  sqlite3_finalize(ins);
  sqlite3_finalize(mem);
  q->res.dup = dup;
  return rc;
}

int sg__sq_contacts_write(sg__sq_conn_t *c, sg__store_req_t *r, int64_t now) {
  sg__contacts_req_t *q = r->in.contacts;
  memset(&q->res, 0, sizeof q->res);
  switch (q->op.kind) {
  case SG_STORE_CONTACT_PUT:
    return contact_put(c, q, now);
  case SG_STORE_CONTACT_DELETE:
    return delete_with_members(c, &q->op, "contacts", "contact_id");
  case SG_STORE_CLIST_PUT:
    return clist_put(c, q, now);
  case SG_STORE_CLIST_DELETE:
    return delete_with_members(c, &q->op, "contact_lists", "list_id");
  case SG_STORE_CLIST_ADD:
  case SG_STORE_CLIST_REMOVE:
    return clist_members(c, q, now, q->op.kind == SG_STORE_CLIST_ADD);
  case SG_STORE_TEMPLATE_PUT:
    return template_put(c, q, now);
  case SG_STORE_TEMPLATE_DELETE:
    return delete_with_members(c, &q->op, "templates", NULL);
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

static void read_contact(sg__arena_t *a, sqlite3_stmt *s, sg_store_contact_t *k,
                         bool *ok) {
  k->id = sqlite3_column_int64(s, 0);
  k->account_id = sqlite3_column_int64(s, 1);
  k->number = sg__sq_col_text(a, s, 2, ok);
  k->name = sg__sq_col_text(a, s, 3, ok);
  k->fields = sg__sq_col_text(a, s, 4, ok);
  k->created_ms = sqlite3_column_int64(s, 5);
  k->updated_ms = sqlite3_column_int64(s, 6);
  k->opted_out = sqlite3_column_int(s, 7) != 0;
}

static int contact_lists_of(sg__sq_conn_t *c, sg__arena_t *a,
                            sg_store_contact_t *k) {
  sqlite3_stmt *s = prep(c, "SELECT list_id FROM list_members WHERE "
                            "contact_id = ?1 ORDER BY list_id LIMIT 1000");
  int64_t *ids = sg__arena_alloc(a, 1000 * sizeof *ids);
  if (s == NULL || ids == NULL) {
    sqlite3_finalize(s);
    return s == NULL ? SG_EIO : SG_ENOMEM;
  }
  sqlite3_bind_int64(s, 1, k->id);
  int rc;
  size_t n = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    ids[n++] = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  k->lists = ids;
  k->n_lists = n;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

static int contact_get(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__contacts_req_t *q = r->in.contacts;
  sqlite3_stmt *s = prep(c, "SELECT " CONTACT_COLS " FROM contacts c WHERE "
                            "c.id = ?1 AND (?2 = 0 OR c.account_id = ?2)");
  sg_store_contact_t *k = sg__arena_alloc(&r->arena, sizeof *k);
  if (s == NULL || k == NULL) {
    sqlite3_finalize(s);
    return s == NULL ? SG_EIO : SG_ENOMEM;
  }
  sqlite3_bind_int64(s, 1, q->op.id);
  sqlite3_bind_int64(s, 2, q->op.account_id);
  int rc = sqlite3_step(s);
  bool ok = true;
  if (rc == SQLITE_ROW)
    read_contact(&r->arena, s, k, &ok);
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW)
    return rc == SQLITE_DONE ? SG_ENOENT : SG_EIO;
  if (!ok)
    return SG_ENOMEM;
  q->res.contacts = k;
  q->res.n_contacts = 1;
  return contact_lists_of(c, &r->arena, k);
}

/* The SQL of a contact search with the filters op has. The parameters are
 * numbered by meaning (?1 account .. ?8 limit), so unused ones stay
 * unbound, i.e. NULL, and are not referenced. */
static void list_sql(const sg_store_cop_t *op, char *sql, size_t n) {
  snprintf(sql, n,
           "SELECT " CONTACT_COLS " FROM contacts c %s WHERE c.id > ?7 %s %s "
           "%s %s ORDER BY c.id LIMIT ?8",
           op->list_id > 0 ? "JOIN list_members m ON m.contact_id = c.id AND "
                             "m.list_id = ?2"
                           : "",
           op->account_id > 0 ? "AND c.account_id = ?1" : "",
           op->prefix != NULL ? "AND c.number >= ?3 AND c.number < ?4" : "",
           op->name_like != NULL ? "AND c.name LIKE ?5 ESCAPE '\\'" : "",
           op->field_key != NULL ? "AND json_extract(c.fields, ?6) = ?9" : "");
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

static int bind_list(sg__arena_t *a, sqlite3_stmt *s,
                     const sg_store_cop_t *op) {
  sqlite3_bind_int64(s, 1, op->account_id);
  sqlite3_bind_int64(s, 2, op->list_id);
  if (op->prefix != NULL) {
    size_t n = strlen(op->prefix);
    char *hi = sg__arena_alloc(a, n + 2);
    if (hi == NULL)
      return SG_ENOMEM;
    memcpy(hi, op->prefix, n + 1);
    if (n == 0)
      memcpy(hi, "\x7f", 2);
    else
      hi[n - 1]++; /* the first text after every text with the prefix */
    sg__sq_bind_text(s, 3, op->prefix);
    sqlite3_bind_text(s, 4, hi, -1, SQLITE_TRANSIENT);
  }
  if (op->name_like != NULL) {
    char *p = like_pattern(a, op->name_like);
    if (p == NULL)
      return SG_ENOMEM;
    sqlite3_bind_text(s, 5, p, -1, SQLITE_TRANSIENT);
  }
  if (op->field_key != NULL) {
    char path[80];
    snprintf(path, sizeof path, "$.\"%s\"", op->field_key);
    sqlite3_bind_text(s, 6, path, -1, SQLITE_TRANSIENT);
    sg__sq_bind_text(s, 9, op->field_value);
  }
  sqlite3_bind_int64(s, 7, op->after);
  sqlite3_bind_int64(s, 8, (int64_t)op->limit + 1);
  return 0;
}

static int contact_list(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__contacts_req_t *q = r->in.contacts;
  char sql[1024];
  list_sql(&q->op, sql, sizeof sql);
  sqlite3_stmt *s = prep(c, sql);
  sg_store_contact_t *k =
      sg__arena_alloc(&r->arena, (q->op.limit + 1) * sizeof *k);
  int rc = s == NULL ? SG_EIO : k == NULL ? SG_ENOMEM : 0;
  if (rc == 0)
    rc = bind_list(&r->arena, s, &q->op);
  bool ok = true;
  size_t n = 0;
  int src = SQLITE_DONE;
  while (rc == 0 && ok && (src = sqlite3_step(s)) == SQLITE_ROW)
    read_contact(&r->arena, s, &k[n++], &ok);
  sqlite3_finalize(s);
  if (rc != 0)
    return rc;
  if (!ok)
    return SG_ENOMEM;
  if (src != SQLITE_DONE)
    return SG_EIO;
  if (n > q->op.limit) {
    n = q->op.limit;
    q->res.next_after = k[n - 1].id;
  }
  q->res.contacts = k;
  q->res.n_contacts = n;
  return 0;
}

static int clist_read(sg__sq_conn_t *c, sg__store_req_t *r, bool one) {
  sg__contacts_req_t *q = r->in.contacts;
  sqlite3_stmt *s = prep(
      c, "SELECT l.id, l.account_id, l.name, (SELECT count(*) FROM "
         "list_members m WHERE m.list_id = l.id), l.created_ms, l.updated_ms "
         "FROM contact_lists l WHERE (?1 = 0 OR l.account_id = ?1) AND "
         "(?2 = 0 OR l.id = ?2) ORDER BY l.id LIMIT 1000");
  sg_store_clist_t *l = sg__arena_alloc(&r->arena, LISTS_MAX * sizeof *l);
  if (s == NULL || l == NULL) {
    sqlite3_finalize(s);
    return s == NULL ? SG_EIO : SG_ENOMEM;
  }
  sqlite3_bind_int64(s, 1, q->op.account_id);
  sqlite3_bind_int64(s, 2, one ? q->op.id : 0);
  bool ok = true;
  size_t n = 0;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    sg_store_clist_t *x = &l[n++];
    x->id = sqlite3_column_int64(s, 0);
    x->account_id = sqlite3_column_int64(s, 1);
    x->name = sg__sq_col_text(&r->arena, s, 2, &ok);
    x->members = (uint64_t)sqlite3_column_int64(s, 3);
    x->created_ms = sqlite3_column_int64(s, 4);
    x->updated_ms = sqlite3_column_int64(s, 5);
  }
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  if (rc != SQLITE_DONE)
    return SG_EIO;
  q->res.lists = l;
  q->res.n_lists = n;
  return one && n == 0 ? SG_ENOENT : 0;
}

static int template_read(sg__sq_conn_t *c, sg__store_req_t *r, bool one) {
  sg__contacts_req_t *q = r->in.contacts;
  sqlite3_stmt *s =
      prep(c, "SELECT id, account_id, name, body, created_ms, updated_ms "
              "FROM templates WHERE (?1 = 0 OR account_id = ?1) AND "
              "(?2 = 0 OR id = ?2) ORDER BY id LIMIT 1000");
  sg_store_template_t *t = sg__arena_alloc(&r->arena, LISTS_MAX * sizeof *t);
  if (s == NULL || t == NULL) {
    sqlite3_finalize(s);
    return s == NULL ? SG_EIO : SG_ENOMEM;
  }
  sqlite3_bind_int64(s, 1, q->op.account_id);
  sqlite3_bind_int64(s, 2, one ? q->op.id : 0);
  bool ok = true;
  size_t n = 0;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    sg_store_template_t *x = &t[n++];
    x->id = sqlite3_column_int64(s, 0);
    x->account_id = sqlite3_column_int64(s, 1);
    x->name = sg__sq_col_text(&r->arena, s, 2, &ok);
    x->body = sg__sq_col_text(&r->arena, s, 3, &ok);
    x->created_ms = sqlite3_column_int64(s, 4);
    x->updated_ms = sqlite3_column_int64(s, 5);
  }
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  if (rc != SQLITE_DONE)
    return SG_EIO;
  q->res.templates = t;
  q->res.n_templates = n;
  return one && n == 0 ? SG_ENOENT : 0;
}

static int contact_keys(sg__sq_conn_t *c, sg__store_req_t *r) {
  sg__contacts_req_t *q = r->in.contacts;
  sqlite3_stmt *s = prep(
      c, "SELECT DISTINCT j.key FROM contacts c, json_each(c.fields) j WHERE "
         "(?1 = 0 OR c.account_id = ?1) AND (?2 = 0 OR c.id IN (SELECT "
         "contact_id FROM list_members WHERE list_id = ?2)) ORDER BY 1 "
         "LIMIT 64");
  const char **keys = sg__arena_alloc(&r->arena, 64 * sizeof *keys);
  if (s == NULL || keys == NULL) {
    sqlite3_finalize(s);
    return s == NULL ? SG_EIO : SG_ENOMEM;
  }
  sqlite3_bind_int64(s, 1, q->op.account_id);
  sqlite3_bind_int64(s, 2, q->op.list_id);
  bool ok = true;
  size_t n = 0;
  int rc;
  while (ok && (rc = sqlite3_step(s)) == SQLITE_ROW)
    keys[n++] = sg__sq_col_text(&r->arena, s, 0, &ok);
  sqlite3_finalize(s);
  if (!ok)
    return SG_ENOMEM;
  q->res.keys = keys;
  q->res.n_keys = n;
  return rc == SQLITE_DONE ? 0 : SG_EIO;
}

int sg__sq_contacts_read(sg__sq_conn_t *c, sg__store_req_t *r) {
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
