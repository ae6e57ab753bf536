/* contacts_int.h - the SG__REQ_CONTACTS_* requests of store_contacts.c: an
 * operation of store/contacts.h copied into the request's arena, and its
 * result. Not for use outside src/store/.
 */
#ifndef SG_STORE_CONTACTS_INT_H
#define SG_STORE_CONTACTS_INT_H

#include "store/contacts.h"
#include "store/store_int.h"

typedef struct sg__contacts_req {
  sg_store_cop_t op;   /* arena copies */
  sg_store_cres_t res; /* filled by the backend, in the arena */
} sg__contacts_req_t;

#endif
