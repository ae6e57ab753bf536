/* modem_conn.c - the engine's side of a connector of type modem: maps its
 * configuration onto connector/modem.h and creates it. The engine then
 * drives it through connector.h like any other connector.
 *
 * It must never reach into the modem connector beyond its public header.
 */
#include "connector/modem.h"
#include "engine/engine_int.h"

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
  return sg_modem_new(e->loop, &mc, cbs, c, &c->c);
}
