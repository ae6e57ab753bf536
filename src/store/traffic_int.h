/* traffic_int.h - the SG__REQ_TRAFFIC_READ request of store_traffic.c
 * (store/traffic.h). Not for use outside src/store/.
 */
#ifndef SG_STORE_TRAFFIC_INT_H
#define SG_STORE_TRAFFIC_INT_H

#include "store/store_int.h"
#include "store/traffic.h"

typedef struct sg__traffic_req {
  sg_store_traffic_q_t q;       /* in */
  sg_store_traffic_row_t *rows; /* out: q.buckets rows in the arena */
} sg__traffic_req_t;

#endif
