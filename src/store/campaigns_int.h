/* campaigns_int.h - the SG__REQ_CAMPAIGN_* requests of store_campaigns.c:
 * an operation of store/campaigns.h copied into the request's arena, and
 * its result. Not for use outside src/store/.
 */
#ifndef SG_STORE_CAMPAIGNS_INT_H
#define SG_STORE_CAMPAIGNS_INT_H

#include "store/campaigns.h"
#include "store/store_int.h"

typedef struct sg__campaigns_req {
  sg_store_campop_t op;   /* arena copies */
  sg_store_campres_t res; /* filled by the backend, in the arena */
} sg__campaigns_req_t;

#endif
