/* smpp_errclass.c - the table that says, for every SMPP 3.4 command_status
 * (section 5.1.3), whether a submit_sm answered with it is done, throttled,
 * temporarily or permanently refused. The policy is data in one array;
 * nothing here does I/O or allocates.
 *
 * The choices follow what the status says about the message, not about the
 * link: a malformed or refused field (addresses, TON/NPI, esm_class,
 * lengths, times, TLVs) fails the same way every time, so it is PERM; an
 * SMSC-side fault (system error, submit failed, unknown error, a temporary
 * application error, a bind-state mix-up that another bind or a reconnect
 * cures) may pass, so it is TEMP; queue full and throttled ask us to slow
 * down. Kannel's smpp_status_to_smscconn_failure_reason() draws the same
 * line for ESME_RSYSERR, ESME_RX_T_APPN, ESME_RMSGQFUL and ESME_RTHROTTLED.
 */
#include "connector/smpp_errclass.h"

#include <string.h>

#include "core/error.h"
#include "smpp/pdu.h"

typedef struct errclass_row {
  uint32_t status;
  uint8_t cls;
} errclass_row_t;

#define OK SG_SMPP_EC_OK
#define THR SG_SMPP_EC_THROTTLE
#define TMP SG_SMPP_EC_TEMP
#define PRM SG_SMPP_EC_PERM

/* Sorted by status, one row per value of status.def. */
static const errclass_row_t k_rows[] = {
    {SG_SMPP_ESME_ROK, OK},
    {SG_SMPP_ESME_RINVMSGLEN, PRM},
    {SG_SMPP_ESME_RINVCMDLEN, PRM},
    {SG_SMPP_ESME_RINVCMDID, PRM},
    {SG_SMPP_ESME_RINVBNDSTS, TMP}, /* the bind was not ready: resend */
    {SG_SMPP_ESME_RALYBND, TMP},
    {SG_SMPP_ESME_RINVPRTFLG, PRM},
    {SG_SMPP_ESME_RINVREGDLVFLG, PRM},
    {SG_SMPP_ESME_RSYSERR, TMP},
    {SG_SMPP_ESME_RINVSRCADR, PRM},
    {SG_SMPP_ESME_RINVDSTADR, PRM},
    {SG_SMPP_ESME_RINVMSGID, PRM},
    {SG_SMPP_ESME_RBINDFAIL, TMP},
    {SG_SMPP_ESME_RINVPASWD, PRM},
    {SG_SMPP_ESME_RINVSYSID, PRM},
    {SG_SMPP_ESME_RCANCELFAIL, PRM},
    {SG_SMPP_ESME_RREPLACEFAIL, PRM},
    {SG_SMPP_ESME_RMSGQFUL, THR},
    {SG_SMPP_ESME_RINVSERTYP, PRM},
    {SG_SMPP_ESME_RINVNUMDESTS, PRM},
    {SG_SMPP_ESME_RINVDLNAME, PRM},
    {SG_SMPP_ESME_RINVDESTFLAG, PRM},
    {SG_SMPP_ESME_RINVSUBREP, PRM},
    {SG_SMPP_ESME_RINVESMCLASS, PRM},
    {SG_SMPP_ESME_RCNTSUBDL, PRM},
    {SG_SMPP_ESME_RSUBMITFAIL, TMP}, /* generic: may be a passing fault */
    {SG_SMPP_ESME_RINVSRCTON, PRM},
    {SG_SMPP_ESME_RINVSRCNPI, PRM},
    {SG_SMPP_ESME_RINVDSTTON, PRM},
    {SG_SMPP_ESME_RINVDSTNPI, PRM},
    {SG_SMPP_ESME_RINVSYSTYP, PRM},
    {SG_SMPP_ESME_RINVREPFLAG, PRM},
    {SG_SMPP_ESME_RINVNUMMSGS, PRM},
    {SG_SMPP_ESME_RTHROTTLED, THR},
    {SG_SMPP_ESME_RINVSCHED, PRM},
    {SG_SMPP_ESME_RINVEXPIRY, PRM},
    {SG_SMPP_ESME_RINVDFTMSGID, PRM},
    {SG_SMPP_ESME_RX_T_APPN, TMP},
    {SG_SMPP_ESME_RX_P_APPN, PRM},
    {SG_SMPP_ESME_RX_R_APPN, PRM},
    {SG_SMPP_ESME_RQUERYFAIL, PRM},
    {SG_SMPP_ESME_RINVOPTPARSTREAM, PRM},
    {SG_SMPP_ESME_ROPTPARNOTALLWD, PRM},
    {SG_SMPP_ESME_RINVPARLEN, PRM},
    {SG_SMPP_ESME_RMISSINGOPTPARAM, PRM},
    {SG_SMPP_ESME_RINVOPTPARAMVAL, PRM},
    {SG_SMPP_ESME_RDELIVERYFAILURE, TMP},
    {SG_SMPP_ESME_RUNKNOWNERR, TMP},
};

#undef OK
#undef THR
#undef TMP
#undef PRM

bool sg_smpp_errclass_lookup(uint32_t command_status, sg_smpp_errclass_t *out) {
  size_t lo = 0, hi = sizeof k_rows / sizeof k_rows[0];
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (k_rows[mid].status == command_status) {
      if (out != NULL)
        *out = (sg_smpp_errclass_t)k_rows[mid].cls;
      return true;
    }
    if (k_rows[mid].status < command_status)
      lo = mid + 1;
    else
      hi = mid;
  }
  return false;
}

sg_smpp_errclass_t
sg_smpp_errclass(uint32_t command_status,
                 const sg_smpp_errclass_override_t *overrides, size_t n) {
  for (size_t i = 0; overrides != NULL && i < n; i++)
    if (overrides[i].status == command_status)
      return overrides[i].cls;
  sg_smpp_errclass_t cls;
  return sg_smpp_errclass_lookup(command_status, &cls) ? cls : SG_SMPP_EC_TEMP;
}

static const char *const k_names[] = {"ok", "throttle", "temporary",
                                      "permanent"};

const char *sg_smpp_errclass_name(sg_smpp_errclass_t cls) {
  return (unsigned)cls < 4 ? k_names[cls] : NULL;
}

int sg_smpp_errclass_parse(const char *name, sg_smpp_errclass_t *out) {
  if (name == NULL || out == NULL)
    return SG_EINVAL;
  for (unsigned i = 0; i < 4; i++)
    if (strcmp(name, k_names[i]) == 0) {
      *out = (sg_smpp_errclass_t)i;
      return 0;
    }
  if (strcmp(name, "temp") == 0 || strcmp(name, "perm") == 0) {
    *out = name[0] == 't' ? SG_SMPP_EC_TEMP : SG_SMPP_EC_PERM;
    return 0;
  }
  return SG_EINVAL;
}
