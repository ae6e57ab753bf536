/* contacts.c - the engine's side of contacts, lists and templates: numbers
 * normalised with the account's region, and the store's operations run on
 * the ingress's behalf.
 *
 * It holds no state of its own: isolation between accounts is the store's
 * (every operation names its account). It must never let an ingress reach
 * the store except through these calls.
 */
#include "engine/contacts.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/phone.h"
#include "engine/engine_int.h"

int sg_engine_contact_number(sg_engine_t *e, const sg_engine_account_t *a,
                             const char *in, char out[SG_STORE_NUMBER_MAX],
                             char *msg, size_t cap) {
  sg_phone_t ph;
  sg_phone_err_t perr;
  const char *region =
      a != NULL && a->cfg != NULL ? a->cfg->default_region : NULL;
  if (in == NULL ||
      sg_phone_normalize(e->phone, in, strlen(in), region, &ph, &perr) != 0) {
    snprintf(msg, cap, "%s", in == NULL ? "the number is missing" : perr.text);
    return SG_EINVAL;
  }
  snprintf(out, SG_STORE_NUMBER_MAX, "%s", ph.e164);
  return 0;
}

int sg_engine_contacts(sg_engine_t *e, const sg_store_cop_t *op,
                       sg_store_cres_cb cb, void *data) {
  if (e == NULL || e->st == NULL)
    return SG_ESTATE;
  return sg_store_contacts(e->st, op, cb, data);
}
