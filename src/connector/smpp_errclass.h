/* smpp_errclass.h - what an SMPP client does about each command_status an
 * SMSC answers a submit_sm with (SMPP 3.4 section 5.1.3): go on, slow down
 * and resend, resend later a limited number of times, or give up.
 *
 * The classification is one table (smpp_errclass.c) with a row for every
 * ESME_R* value of smpp/status.def; an operator can override single
 * statuses per connector (an SMSC that uses a vendor code 0x400-0x4FF for
 * "throttled", say). Pure lookups: no I/O, no allocation.
 */
#ifndef SG_CONNECTOR_SMPP_ERRCLASS_H
#define SG_CONNECTOR_SMPP_ERRCLASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sg_smpp_errclass {
  SG_SMPP_EC_OK = 0,   /* ESME_ROK: accepted */
  SG_SMPP_EC_THROTTLE, /* too fast (ESME_RTHROTTLED, ESME_RMSGQFUL): cut
                          the rate and resend, order kept */
  SG_SMPP_EC_TEMP,     /* may work later (ESME_RSYSERR ...): resend after
                          a back-off, a limited number of times */
  SG_SMPP_EC_PERM      /* will never work (ESME_RINVDSTADR ...) */
} sg_smpp_errclass_t;

/* One operator override: `status` is handled as `cls`. */
typedef struct sg_smpp_errclass_override {
  uint32_t status;
  sg_smpp_errclass_t cls;
} sg_smpp_errclass_override_t;

/* The class of a command_status: the first matching override in
 * overrides[0..n) (may be NULL with n 0), else the table. Values the table
 * does not list (reserved, vendor specific 0x400-0x4FF) are TEMP: a
 * limited number of resends, then the engine may fail over. */
sg_smpp_errclass_t
sg_smpp_errclass(uint32_t command_status,
                 const sg_smpp_errclass_override_t *overrides, size_t n);

/* Whether the table has a row for command_status (every ESME_R* of
 * status.def has one); *out (may be NULL) gets its class. */
bool sg_smpp_errclass_lookup(uint32_t command_status, sg_smpp_errclass_t *out);

/* "ok", "throttle", "temporary", "permanent"; NULL for other values. */
const char *sg_smpp_errclass_name(sg_smpp_errclass_t cls);

/* Parses the names above (and "temp", "perm"). Returns 0 or SG_EINVAL. */
int sg_smpp_errclass_parse(const char *name, sg_smpp_errclass_t *out);

#endif
