/* contacts.h - the store's contacts, contact lists and templates (tables of
 * migration 0014). Part of the store's interface: store.h includes it, and
 * everything store.h says about threads, callbacks, durability and
 * back-pressure holds here too.
 *
 * One entry point, sg_store_contacts(), takes an operation (sg_store_cop_t)
 * and answers with one result type (sg_store_cres_t). Writes run on the
 * writer in its group commit; reads on a reader connection.
 *
 * ISOLATION
 *   Every operation names an account. Writes touch only that account's rows:
 *   another account's contact, list or template is SG_ENOENT, as a missing
 *   one. Reads with account_id 0 see every account (the admin's view).
 *
 * PAGINATION
 *   Contact lists are ordered by id, ascending; ids only grow
 *   (AUTOINCREMENT), so a page "after id N" never shifts while rows are
 *   added: new contacts appear on later pages.
 *
 * OPT-OUTS
 *   A contact read carries opted_out: its number is in the account's
 *   optouts table (store.h "opt-outs"), joined at read time.
 */
#ifndef SG_STORE_CONTACTS_H
#define SG_STORE_CONTACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sg_store sg_store_t;

#define SG_STORE_CONTACT_NAME_MAX 256    /* octets of a contact's name */
#define SG_STORE_CONTACT_FIELDS_MAX 8192 /* octets of its fields' JSON */
#define SG_STORE_CLIST_NAME_MAX 128      /* octets of a list's name */
#define SG_STORE_TEMPLATE_NAME_MAX 128
#define SG_STORE_TEMPLATE_BODY_MAX 8192
#define SG_STORE_CONTACTS_PAGE_MAX 1000 /* contacts in one page */
#define SG_STORE_IMPORT_MAX 5000        /* rows in one import batch */
#define SG_STORE_MEMBERS_MAX 1000       /* contact ids in one ADD/REMOVE */

typedef enum sg_store_cop_kind {
  /* writes */
  SG_STORE_CONTACT_PUT = 0, /* create (id 0) or update a contact */
  SG_STORE_CONTACT_DELETE,
  SG_STORE_CLIST_PUT, /* create (id 0) or rename a list */
  SG_STORE_CLIST_DELETE,
  SG_STORE_CLIST_ADD,    /* add contacts ids[] to list list_id */
  SG_STORE_CLIST_REMOVE, /* take them out of it */
  SG_STORE_TEMPLATE_PUT, /* create (id 0) or update a template */
  SG_STORE_TEMPLATE_DELETE,
  SG_STORE_CONTACT_IMPORT, /* rows[]: insert the new numbers */
  /* reads */
  SG_STORE_CONTACT_GET,
  SG_STORE_CONTACT_LIST,
  SG_STORE_CLIST_GET,
  SG_STORE_CLIST_LIST,
  SG_STORE_TEMPLATE_GET,
  SG_STORE_TEMPLATE_LIST,
  SG_STORE_CONTACT_KEYS /* the custom field names in use (list_id: of its
                           members), sorted, at most 64, in res->keys */
} sg_store_cop_kind_t;

#define SG_STORE_COP_FIRST_READ SG_STORE_CONTACT_GET

/* One contact of an import batch. */
typedef struct sg_store_contact_in {
  const char *number; /* E.164 */
  const char *name;   /* or NULL */
  const char *fields; /* a JSON object, or NULL for {} */
} sg_store_contact_in_t;

typedef struct sg_store_cop {
  sg_store_cop_kind_t kind;
  int64_t account_id; /* writes: > 0; reads: 0 is every account */
  int64_t id;         /* the contact, list or template; 0 in PUT creates */
  /* CLIST_ADD/REMOVE: the list; CONTACT_LIST: only its members (0: any);
   * CONTACT_IMPORT: add every row's contact to it (0: none). */
  int64_t list_id;
  /* CONTACT_PUT: number (E.164; required to create), name, fields (a JSON
   * object). CLIST_PUT and TEMPLATE_PUT: name; TEMPLATE_PUT: body. In an
   * update, a NULL member keeps the stored value; name "" clears a
   * contact's name. */
  const char *number;
  const char *name;
  const char *fields;
  const char *body;
  const int64_t *ids; /* CLIST_ADD/REMOVE: 1..SG_STORE_MEMBERS_MAX */
  size_t n_ids;
  const sg_store_contact_in_t *rows; /* CONTACT_IMPORT: 1..IMPORT_MAX */
  size_t n_rows;
  /* CONTACT_LIST filters (all that are set must hold): */
  const char *prefix;      /* the number starts with it */
  const char *name_like;   /* the name contains it (ASCII case ignored) */
  const char *field_key;   /* fields[field_key] ... */
  const char *field_value; /* ... equals this text */
  int64_t after;           /* ids above this one (the cursor); 0: first */
  unsigned limit;          /* 1..SG_STORE_CONTACTS_PAGE_MAX; 0: 50 */
} sg_store_cop_t;

typedef struct sg_store_contact {
  int64_t id;
  int64_t account_id;
  const char *number;
  const char *name;   /* NULL when none */
  const char *fields; /* a JSON object's text */
  bool opted_out;
  int64_t created_ms;
  int64_t updated_ms;
  const int64_t *lists; /* CONTACT_GET only: the lists it is in, by id */
  size_t n_lists;
} sg_store_contact_t;

typedef struct sg_store_clist {
  int64_t id;
  int64_t account_id;
  const char *name;
  uint64_t members;
  int64_t created_ms;
  int64_t updated_ms;
} sg_store_clist_t;

typedef struct sg_store_template {
  int64_t id;
  int64_t account_id;
  const char *name;
  const char *body;
  int64_t created_ms;
  int64_t updated_ms;
} sg_store_template_t;

typedef struct sg_store_cres {
  int64_t id;                         /* PUT: the row written */
  const sg_store_contact_t *contacts; /* CONTACT_GET (1), CONTACT_LIST */
  size_t n_contacts;
  const sg_store_clist_t *lists; /* CLIST_GET (1), CLIST_LIST */
  size_t n_lists;
  const sg_store_template_t *templates; /* TEMPLATE_GET (1), _LIST */
  size_t n_templates;
  /* CONTACT_LIST: the cursor of the next page (the last id of this one),
   * 0 when this page is the last. */
  int64_t next_after;
  /* CLIST_ADD/REMOVE: memberships added or removed (a contact already in
   * the list, or not in it, changes nothing). */
  size_t changed;
  /* CONTACT_IMPORT: dup[i] is true when rows[i]'s number was already a
   * contact of the account (stored before, or earlier in the batch). */
  const bool *dup;
  size_t imported;
  size_t duplicates;
  const char *const *keys; /* CONTACT_KEYS */
  size_t n_keys;
} sg_store_cres_t;

/* status 0 with res; otherwise res is NULL:
 *   SG_ENOENT  the contact, list or template (or one of ids[], or the
 *              import's list) is missing or another account's;
 *   SG_EEXIST  the number, list name or template name is taken;
 *   SG_EIO     the store failed (nothing written). */
typedef void (*sg_store_cres_cb)(sg_store_t *st, int status,
                                 const sg_store_cres_t *res, void *data);

/* Runs one operation. The store copies what it needs from op. Fails at
 * once with SG_EINVAL (a missing account for a write, a missing id or
 * number, values over the maxima above, counts of 0 or over their maxima,
 * a field_key that is not 1..64 of [A-Za-z0-9_-]), SG_EBUSY (queue full),
 * SG_ECLOSED, SG_ENOMEM; the callback then never fires. The store does not
 * check numbers or JSON: the engine gives them normalised and valid. */
int sg_store_contacts(sg_store_t *st, const sg_store_cop_t *op,
                      sg_store_cres_cb cb, void *data);

#endif
