/* mo_int.h - the SG__REQ_MO_* requests of store_mo.c: inbound parts
 * waiting for reassembly, the delivery of a reassembled message, the
 * inbound search and opt-out lists. Not for use outside src/store/.
 */
#ifndef SG_STORE_MO_INT_H
#define SG_STORE_MO_INT_H

#include "store/store_int.h"

typedef enum sg__mo_op {
  /* writes */
  SG__MO_PART_ADD = 0,
  SG__MO_DELIVER,
  SG__MO_OPTOUT_SET,
  /* reads */
  SG__MO_DUE,
  SG__MO_SEARCH,
  SG__MO_OPTOUT_LIST
} sg__mo_op_t;

typedef struct sg__mo_req {
  sg__mo_op_t op;
  /* in (arena copies) */
  sg_store_mo_part_t part;          /* PART_ADD */
  sg_store_mo_deliver_t deliver;    /* DELIVER */
  sg_store_inbound_filter_t filter; /* SEARCH */
  struct {
    int64_t account_id;
    const char *number, *source, *cursor;
    bool add;
    unsigned limit;
  } optout; /* OPTOUT_SET, OPTOUT_LIST */
  struct {
    int64_t stale_before_ms;
    unsigned max_groups;
  } due;
  /* out */
  bool dup;
  unsigned have;
  int64_t id;
  sg_store_mo_part_t *parts;
  size_t n_parts;
  sg_store_inbound_res_t inbound;
  sg_store_optout_res_t optouts;
} sg__mo_req_t;

#endif
