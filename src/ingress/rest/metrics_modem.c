/* metrics_modem.c - the GSM modems of the connectors in GET /metrics: one
 * sample per modem (label device, beside connector) for its state, signal
 * (AT+CSQ), registration (AT+CREG/AT+CEREG), operator (AT+COPS?, a label of
 * smsgate_modem_info) and counters, from the links each connector reports
 * (connector.h sg_conn_link_t) through sg_engine_metrics().
 *
 * It reads what is in memory only, and must never print a label value
 * unescaped: device names come from the configuration, operator names from
 * the modem.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ingress/rest/rest_int.h"

static void escape(const char *s, char *out, size_t cap) {
  size_t o = 0;
  for (; s != NULL && *s != '\0' && o + 3 < cap; s++) {
    if (*s == '\\' || *s == '"' || *s == '\n') {
      out[o++] = '\\';
      out[o++] = *s == '\n' ? 'n' : *s;
    } else {
      out[o++] = *s;
    }
  }
  out[o] = '\0';
}


typedef int64_t (*link_get_t)(const sg_conn_link_t *l);

#define GETTER(fn, expr)                                                       \
  static int64_t fn(const sg_conn_link_t *l) {                                 \
    return (expr);                                                             \
  }
GETTER(l_up, l->state == SG_CONN_UP)
GETTER(l_healthy, l->healthy)
GETTER(l_rssi, l->signal_rssi)
GETTER(l_dbm, l->signal_dbm)
GETTER(l_registered, l->registered)
GETTER(l_reg, l->reg_stat)
GETTER(l_queued, l->queued)
GETTER(l_sent, (int64_t)l->sent)
GETTER(l_received, (int64_t)l->received)
GETTER(l_errors, (int64_t)l->errors)
GETTER(l_resets, (int64_t)l->resets)
#undef GETTER

static void link_family(sg__rest_buf_t *b, const sg_engine_metrics_t *m,
                        const char *name, const char *type, const char *help,
                        link_get_t get) {
  char conn[160], dev[200];
  sg__rest_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                      type);
  for (size_t i = 0; i < m->n_connectors; i++) {
    escape(m->connectors[i].name, conn, sizeof conn);
    for (size_t k = 0; k < m->connectors[i].n_links; k++) {
      const sg_conn_link_t *l = &m->connectors[i].links[k];
      escape(l->name, dev, sizeof dev);
      sg__rest_buf_printf(b, "%s{connector=\"%s\",device=\"%s\"} %lld\n", name,
                          conn, dev, (long long)get(l));
    }
  }
}

static void info_family(sg__rest_buf_t *b, const sg_engine_metrics_t *m) {
  char conn[160], dev[200], op[160];
  sg__rest_buf_printf(b, "# HELP smsgate_modem_info A modem's operator "
                         "(AT+COPS?) and registration, as labels.\n"
                         "# TYPE smsgate_modem_info gauge\n");
  for (size_t i = 0; i < m->n_connectors; i++) {
    escape(m->connectors[i].name, conn, sizeof conn);
    for (size_t k = 0; k < m->connectors[i].n_links; k++) {
      const sg_conn_link_t *l = &m->connectors[i].links[k];
      escape(l->name, dev, sizeof dev);
      escape(l->operator_, op, sizeof op);
      sg__rest_buf_printf(b,
                          "smsgate_modem_info{connector=\"%s\",device=\"%s\","
                          "operator=\"%s\",registration=\"%s\"} 1\n",
                          conn, dev, op, sg_conn_reg_name(l->reg_stat));
    }
  }
}

void sg__rest_metrics_links(sg__rest_buf_t *b, const sg_engine_metrics_t *m) {
  size_t n = 0;
  for (size_t i = 0; i < m->n_connectors; i++)
    n += m->connectors[i].n_links;
  if (n == 0)
    return; /* no modems: no empty families */
  static const struct {
    const char *name, *type, *help;
    link_get_t get;
  } rows[] = {
      {"smsgate_modem_up", "gauge", "1 when the modem is ready to send.", l_up},
      {"smsgate_modem_healthy", "gauge",
       "1 when the modem takes parts (ready, not resting after failures).",
       l_healthy},
      {"smsgate_modem_signal_rssi", "gauge",
       "AT+CSQ <rssi>: 0-31, 99 unknown, -1 never read.", l_rssi},
      {"smsgate_modem_signal_dbm", "gauge",
       "Signal strength in dBm from AT+CSQ (-113 + 2 * rssi); 0 unknown.",
       l_dbm},
      {"smsgate_modem_registered", "gauge",
       "1 when registered (home or roaming) on AT+CREG or AT+CEREG.",
       l_registered},
      {"smsgate_modem_registration_stat", "gauge",
       "Registration <stat> (TS 27.007): 0 not, 1 home, 2 searching, 3 "
       "denied, 4 unknown, 5 roaming; -1 never read.",
       l_reg},
      {"smsgate_modem_queue_depth", "gauge", "Parts in the modem's hands.",
       l_queued},
      {"smsgate_modem_sent_total", "counter", "Parts the network took.",
       l_sent},
      {"smsgate_modem_received_total", "counter",
       "Inbound messages and status reports received.", l_received},
      {"smsgate_modem_errors_total", "counter",
       "+CMS ERRORs and commands without an answer.", l_errors},
      {"smsgate_modem_resets_total", "counter",
       "Times the device was closed and opened again.", l_resets},
  };
  info_family(b, m);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    link_family(b, m, rows[i].name, rows[i].type, rows[i].help, rows[i].get);
}
