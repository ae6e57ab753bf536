/* contacts_int.h - what the REST files of contacts share:
 *   contacts.c         /v1/contacts and /v1/lists (and their routes)
 *   contacts_io.c      CSV import (streamed), import progress
 *   contacts_export.c  CSV export (streamed)
 *   templates.c        /v1/templates and their preview
 *   contacts_json.c    the JSON of contacts, lists and templates, and the
 *                      checks of request bodies and of the caller's account
 * Not a public header: only these files and rest.c include it.
 */
#ifndef SG_INGRESS_REST_CONTACTS_INT_H
#define SG_INGRESS_REST_CONTACTS_INT_H

#include "engine/contacts.h"
#include "ingress/rest/rest_int.h"

/* Registers the routes of these files (rest.c calls it); the other two
 * are its parts (contacts_io.c, templates.c). */
int sg__rest_contacts_register(sg_rest_t *rest);
int sg__rest_contacts_io_register(sg_rest_t *rest);
int sg__rest_templates_register(sg_rest_t *rest);
int sg__rest_contacts_export_register(sg_rest_t *rest);

/* The account a request acts for: the key's account, or for an admin key
 * the account named by ?account= ("*": every account, reads only, given as
 * *account_id 0). Returns the key's account and sets *account_id, or NULL
 * after answering (401/403, 404 for an unknown ?account). */
const sg_engine_account_t *sg__contacts_who(sg_rest_t *rest, sg_http_req_t *req,
                                            bool write, int64_t *account_id);

/* A positive integer path parameter `name`, or 0 after answering 404 with
 * `what` ("no such contact"). */
int64_t sg__contacts_path_id(sg_http_req_t *req, const char *name,
                             const char *what);

/* Parses a JSON object body. Returns it (a new reference), or NULL after
 * answering 422 (not JSON, not an object, or a key outside `allowed`, a
 * NULL-terminated list, named in the error's field). */
json_t *sg__contacts_body(sg_http_req_t *req, const char *const *allowed);

/* Answers a store status of a contacts operation: SG_ENOENT 404 with
 * `what`, SG_EEXIST 409 with `exists` naming `field`, else as
 * sg__rest_engine_error. */
void sg__contacts_error(sg_http_req_t *req, int status, const char *what,
                        const char *exists, const char *field);

/* JSON of store rows (new references, NULL when out of memory). */
json_t *sg__contact_json(const sg_store_contact_t *k);
json_t *sg__clist_json(const sg_store_clist_t *l);
json_t *sg__template_json(const sg_store_template_t *t);

/* Checks a "fields" value: an object of at most 64 string values of at
 * most 1024 octets, keys 1..64 of [A-Za-z0-9_-]. Returns its compact JSON
 * text (sg_free it) or NULL after answering 422 (or 500). */
char *sg__contacts_fields_text(sg_http_req_t *req, json_t *fields);

#endif
