/* modem_conn.c - the engine's side of a connector of type modem: maps its
 * configuration onto connector/modem.h and creates it, and gives it back
 * from the store the parts that still wait for a status report, so that a
 * report arriving after a restart finds its part (a modem's TP-MR lives in
 * the modem's memory only). The engine then drives it through connector.h
 * like any other connector.
 *
 * It must never reach into the modem connector beyond its public header.
 */
#include "connector/modem.h"
#include "core/error.h"
#include "engine/engine_int.h"

/* Reports later than this after the send are not waited for. */
#define WAITING_MAX_AGE_MS (72ll * 3600 * 1000)

static void waiting_cb(sg_store_t *st, int status, const char *const *ids,
                       size_t n, void *data) {
  sg__conn_t *c = data;
  sg_engine_t *e = c->e;
  (void)st;
  sg__op_end(e);
  if (status != 0) {
    sg__log(e, SG_ENGINE_LOG_WARN,
            "connector %s: parts waiting for status reports not read: %s",
            c->cfg->name, sg_strerror(status));
    return;
  }
  size_t restored = 0;
  for (size_t i = n; c->c != NULL && i-- > 0;) /* oldest first */
    restored += sg_modem_restore(c->c, ids[i]) == 0;
  if (restored > 0)
    sg__log(e, SG_ENGINE_LOG_INFO,
            "connector %s: %zu parts sent before the restart wait for their "
            "status reports",
            c->cfg->name, restored);
}

int sg__modem_conn_new(sg_engine_t *e, sg__conn_t *c,
                       const sg_conn_callbacks_t *cbs) {
  const sg_config_connector_t *cc = c->cfg;
  sg_modem_config_t mc;
  sg_modem_config_default(&mc);
  mc.name = cc->name;
  mc.device = cc->device;
  mc.devices = cc->devices;
  mc.n_devices = cc->n_devices;
  mc.flow_control = (sg_modem_flow_t)cc->flow_control;
  mc.direct_receive = cc->receive_mode == SG_CONFIG_RECEIVE_DIRECT;
  mc.speed = cc->speed;
  mc.pin = cc->pin;
  mc.smsc = cc->smsc;
  mc.command_timeout_ms = cc->response_timeout_ms;
  mc.reconnect_delay_ms = cc->reconnect_min_ms;
  mc.max_retries = cc->max_retries;
  int rc = sg_modem_new(e->loop, &mc, cbs, c, &c->c);
  if (rc != 0)
    return rc;
  if (e->st != NULL &&
      sg_store_waiting_parts(e->st, cc->name,
                             sg__now_ms(e) - WAITING_MAX_AGE_MS,
                             SG_STORE_WAITING_MAX, waiting_cb, c) == 0)
    sg__op_begin(e);
  return 0;
}
