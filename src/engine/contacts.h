/* contacts.h - contacts, lists, templates and CSV imports as the ingress
 * sees them (engine side of store/contacts.h).
 *
 * The engine normalises numbers with the account's default_region
 * (core/phone.h), runs the store's operations for an account, and runs CSV
 * imports: the body is parsed as it arrives (core/contact_csv.h), valid
 * rows are written in batches through the store's writer, and the import
 * tells its feeder to wait while batches are in flight, so a file of any
 * size is never held whole. Loop thread only, like engine.h.
 */
#ifndef SG_ENGINE_CONTACTS_H
#define SG_ENGINE_CONTACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"
#include "store/store.h"

/* Normalises a contact's number for account a into out (E.164). Returns 0,
 * or SG_EINVAL with a sentence for the user in msg[0..cap). */
int sg_engine_contact_number(sg_engine_t *e, const sg_engine_account_t *a,
                             const char *in, char out[SG_STORE_NUMBER_MAX],
                             char *msg, size_t cap);

/* Runs op on the store (store/contacts.h). The caller sets op->account_id
 * to its account (or, for an admin's read of every account, 0). Returns 0
 * (cb fires later, on the loop) or the store's immediate error. */
int sg_engine_contacts(sg_engine_t *e, const sg_store_cop_t *op,
                       sg_store_cres_cb cb, void *data);

/* ---- CSV imports ----------------------------------------------------------
 */

#define SG_ENGINE_IMPORT_ERRORS_MAX 1000 /* invalid rows listed (all counted)  \
                                          */
#define SG_ENGINE_IMPORTS_KEPT 32        /* finished imports remembered */

typedef struct sg_engine_import sg_engine_import_t;

/* One invalid row. */
typedef struct sg_engine_import_error {
  size_t line;
  char reason[128];
  char column[72]; /* "" when not about one column */
} sg_engine_import_error_t;

/* An import's progress and result. */
typedef struct sg_engine_import_info {
  uint64_t id;
  int64_t account_id;
  int64_t list_id;
  bool done;
  int status;          /* once done: 0, SG_EINVAL (see message), SG_EIO */
  const char *message; /* the error that failed the file, "" when none */
  const char *column;  /* the header column it is about, "" */
  size_t rows;         /* records read after the header */
  size_t imported, duplicates, invalid;
  size_t pending;                         /* valid rows not yet committed */
  const sg_engine_import_error_t *errors; /* the first invalid rows */
  size_t n_errors;
  int64_t started_ms, finished_ms;
} sg_engine_import_info_t;

/* Called when an import that asked its feeder to wait (SG_EBUSY from
 * sg_engine_import_feed) can take more. */
typedef void (*sg_engine_import_resume_cb)(sg_engine_import_t *imp, void *data);
/* Called once when an ended import has committed or failed; info is valid
 * during the call only. */
typedef void (*sg_engine_import_done_cb)(sg_engine_import_t *imp,
                                         const sg_engine_import_info_t *info,
                                         void *data);

/* Starts an import for account a into list_id (0: none; the list must be
 * the account's, checked by the first batch's write). The engine keeps it
 * (sg_engine_import_find) until it is among more than
 * SG_ENGINE_IMPORTS_KEPT finished ones. Returns 0 with *out, SG_ENOMEM. */
int sg_engine_import_new(sg_engine_t *e, const sg_engine_account_t *a,
                         int64_t list_id, sg_engine_import_resume_cb resume,
                         void *data, sg_engine_import_t **out);

/* Parses the next chunk of the file and queues full batches. Returns 0
 * (go on), SG_EBUSY (the chunk was taken, but wait for the resume
 * callback before the next one), or the error that failed the file
 * (SG_EINVAL: a bad header or field, SG_EIO: the store failed; the info
 * says which): then stop feeding and call sg_engine_import_end. */
int sg_engine_import_feed(sg_engine_import_t *imp, const uint8_t *buf,
                          size_t len);

/* Ends the file: the last rows are written, and done fires once every
 * batch has committed or one failed (never inside this call). Returns 0
 * or SG_ESTATE (already ended). */
int sg_engine_import_end(sg_engine_import_t *imp, sg_engine_import_done_cb done,
                         void *data);

/* The feeder is gone (its client left): no callback fires any more; what
 * was queued still commits, and the import ends as it is. */
void sg_engine_import_detach(sg_engine_import_t *imp);

/* The progress of an import. */
void sg_engine_import_info(const sg_engine_import_t *imp,
                           sg_engine_import_info_t *out);

/* The import with this id, or NULL. */
const sg_engine_import_t *sg_engine_import_find(sg_engine_t *e, uint64_t id);

/* The i-th import the engine keeps, newest first, or NULL past the end. */
const sg_engine_import_t *sg_engine_import_at(sg_engine_t *e, size_t i);

#endif
