/* modem_cms.c - +CMS ERROR codes of TS 27.005 3.2.5 as data: which mean the
 * message can never go as it is (permanent) and a short text for each
 * well-known one. Codes 0-127 are RP causes (TS 24.011 annex E.2), 128-255
 * TP-Failure-Cause values (TS 23.040 9.2.3.22), 300-511 the modem's own.
 *
 * Pure data and lookups: no I/O, no state.
 */
#include <stddef.h>

#include "connector/modem.h"

typedef struct cms {
  int code;
  bool permanent;
  const char *text;
} cms_t;

static const cms_t CMS[] = {
    {1, true, "unassigned (unallocated) number"},
    {8, true, "operator determined barring"},
    {10, true, "call barred"},
    {21, true, "short message transfer rejected"},
    {27, false, "destination out of service"},
    {28, true, "unidentified subscriber"},
    {29, true, "facility rejected"},
    {30, true, "unknown subscriber"},
    {38, false, "network out of order"},
    {41, false, "temporary failure"},
    {42, false, "congestion"},
    {47, false, "resources unavailable"},
    {50, true, "requested facility not subscribed"},
    {69, true, "requested facility not implemented"},
    {81, true, "invalid short message transfer reference value"},
    {96, true, "invalid mandatory information"},
    {176, true, "TPDU not supported"},
    {192, false, "SC busy"},
    {193, true, "no SC subscription"},
    {194, false, "SC system failure"},
    {195, true, "invalid SME address"},
    {196, true, "destination SME barred"},
    {197, true, "SM rejected - duplicate SM"},
    {198, true, "TP-VPF not supported"},
    {199, true, "TP-VP not supported"},
    {300, false, "ME failure"},
    {301, false, "SMS service of ME reserved"},
    {302, false, "operation not allowed"},
    {303, true, "operation not supported"},
    {304, true, "invalid PDU mode parameter"},
    {305, true, "invalid text mode parameter"},
    {310, false, "SIM not inserted"},
    {311, false, "SIM PIN required"},
    {313, false, "SIM failure"},
    {314, false, "SIM busy"},
    {320, false, "memory failure"},
    {321, false, "invalid memory index"},
    {322, false, "memory full"},
    {330, false, "SMSC address unknown"},
    {331, false, "no network service"},
    {332, false, "network timeout"},
    {500, false, "unknown error"},
};

static const cms_t *find(int code) {
  for (size_t i = 0; i < sizeof CMS / sizeof CMS[0]; i++)
    if (CMS[i].code == code)
      return &CMS[i];
  return NULL;
}

bool sg_modem_cms_permanent(int code) {
  const cms_t *c = find(code);
  if (c != NULL)
    return c->permanent;
  /* Invalid message and protocol errors (RP causes 95-111), TP-PID, TP-DCS
   * and TP-Command errors (128-175) are permanent; the rest temporary. */
  return (code >= 95 && code <= 111) || (code >= 128 && code <= 175);
}

const char *sg_modem_cms_text(int code) {
  const cms_t *c = find(code);
  return c != NULL ? c->text : NULL;
}
