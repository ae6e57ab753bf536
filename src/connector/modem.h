/* modem.h - the GSM modem connector: smsgate's way out through a modem and
 * its SIM card over AT commands in PDU mode (3GPP TS 27.007, TS 27.005),
 * implementing connector.h.
 *
 * The modem is a serial device (termios 8N1 at the configured speed, with
 * no flow control, RTS/CTS or XON/XOFF), driven from the libuv loop by a
 * uv_poll_t with no blocking call, or a TCP serial bridge ("tcp://host:
 * port", ser2net-style raw TCP) driven by a uv_tcp_t: connected with a
 * timeout (command_timeout_ms) and reconnected after reconnect_delay like a
 * device that went away. One command is in flight at a time, each with a
 * timeout.
 *
 * Initialisation, one step after the other: ESC (leave a half-finished
 * AT+CMGS), ATE0, AT+CMEE=1, AT+CPIN? (and AT+CPIN=<pin> when the SIM asks
 * and a PIN is configured), AT+CREG? and AT+CEREG? until registered on
 * either (home or roaming; polled every second up to register_timeout),
 * AT+CMGF=0, AT+CNMI=2,1,0,1,0 (+CMTI for stored messages, +CDS for status
 * reports; with direct_receive AT+CSMS=1 and AT+CNMI=2,2,0,1,0: +CMT and
 * +CDS, each acknowledged with AT+CNMA once the owner acked it as stored,
 * none when the owner could not store it, so the network resends it),
 * AT+CSCA when an
 * SMSC is configured, AT+CSQ, AT+COPS?, then AT+CMGL=4 to collect what was
 * stored while smsgate was away. A step that times out, or a modem that
 * stops answering later, closes the device; it is opened again after
 * reconnect_delay and initialised from the start (stats.reconnects).
 * When idle, AT+CSQ every keepalive interval checks the modem is alive.
 *
 * Sending: each part becomes an SMS-SUBMIT (core/tpdu.h): TP-DA from the
 * part's destination, TP-SRR when a report is wanted, TP-VP relative from
 * the validity, TP-DCS from the encoding, TP-UD with the part's UDH; then
 * AT+CMGS=<octets>, the "> " prompt, the PDU in hex and Ctrl-Z. "+CMGS: <mr>"
 * is SENT with smsc_id "<mr>:<recipient>:<unix ms>". +CMS ERROR is sorted
 * into temporary (resent after a second, max_retries times, then TEMPFAIL)
 * and permanent (PERMFAIL) by sg_modem_cms_permanent(). A PDU written with
 * no answer before the modem was reset is resent once, then UNKNOWN.
 *
 * Status reports (+CDS, or +CDSI then AT+CMGR): matched by TP-MR and the
 * recipient to a part sent with that reference that still waits for its
 * final report and was sent within SG_MODEM_CLOCK_SLACK_MS of the report's
 * TP-SCTS (the time the SMSC took the submit; failing that, off by whole
 * quarter hours up to 14 h, an SMSC stating a wrong time zone), the newest
 * of those: a reference reused after the 0..255 wrap goes to the part that
 * used it, never to an older or a newer one. TP-ST 0x20-0x3F is an intermediate report (SG_DLR_ENROUTE) and
 * keeps the part waiting. After a restart, sg_modem_restore() gives back
 * the parts still waiting, by their smsc_id "<mr>:<recipient>:<unix ms>".
 *
 * A pool (devices, n_devices > 1) is one connector over several modems,
 * each a modem connector as above with its own TP-MR counter, waiting
 * parts and inbound messages. A part goes to the modem with the fewest
 * parts in hand among those that are ready and not failing; a modem that
 * is down takes nothing, and the parts it held unsent go to the others;
 * one that failed three sends in a row rests for a minute unless no other
 * modem is ready.
 *
 * Receiving: +CMTI names a stored message; AT+CMGR reads it; its
 * SMS-DELIVER becomes inbound_cb (UDH split off, data_coding 0x00, 0x04 or
 * 0x08, dst the connector's name as an alphanumeric address); AT+CMGD deletes it only after the owner acks it as stored. Not
 * accepted: it is read again after reconnect_delay.
 */
#ifndef SG_CONNECTOR_MODEM_H
#define SG_CONNECTOR_MODEM_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "connector/connector.h"

/* A report's TP-SCTS (when the SMSC took the submit) and smsgate's clock
 * at the send may differ this much and still match. */
#define SG_MODEM_CLOCK_SLACK_MS (3 * 60 * 1000)

#define SG_MODEM_POOL_MAX 16

typedef enum sg_modem_flow {
  SG_MODEM_FLOW_NONE = 0,
  SG_MODEM_FLOW_RTSCTS = 1, /* termios CRTSCTS */
  SG_MODEM_FLOW_XONXOFF = 2 /* termios IXON | IXOFF */
} sg_modem_flow_t;

typedef struct sg_modem_config {
  const char *name;             /* for logs; copied */
  const char *device;           /* a serial device path or "tcp://host:port";
                                   copied; unused when n_devices > 0 */
  const char *const *devices;   /* a pool: n_devices of them; copied */
  size_t n_devices;             /* 0..SG_MODEM_POOL_MAX */
  sg_modem_flow_t flow_control; /* serial devices only */
  bool direct_receive;          /* +CMT/+CDS with AT+CNMA, not +CMTI */
  uint32_t speed;               /* baud; default 115200 */
  const char *pin;              /* SIM PIN, or NULL */
  const char *smsc;             /* "+4917..." for AT+CSCA, or NULL */
  uint32_t command_timeout_ms;  /* per command; default 10 s */
  uint32_t send_timeout_ms;     /* AT+CMGS after the PDU; default 60 s */
  uint32_t register_timeout_ms; /* waiting for the network; default 60 s */
  uint32_t reconnect_delay_ms;  /* before reopening; default 2 s */
  uint32_t keepalive_ms;        /* AT+CSQ when idle; default 30 s; 0: off */
  uint32_t max_retries;         /* temporary +CMS ERRORs; default 3 */
  uint32_t queue_max;           /* parts waiting; default 256 */
} sg_modem_config_t;

/* Fills the defaults above (name and device NULL). */
void sg_modem_config_default(sg_modem_config_t *cfg);

/* Creates a modem connector (a pool when n_devices > 1);
 * sg_connector_start() opens the devices. Returns 0, SG_EINVAL (no device,
 * a device that is neither a path nor tcp://host:port, a speed termios does
 * not know, more than SG_MODEM_POOL_MAX devices) or SG_ENOMEM. */
int sg_modem_new(uv_loop_t *loop, const sg_modem_config_t *cfg,
                 const sg_conn_callbacks_t *cbs, void *owner,
                 sg_connector_t **out);

/* What the modem last said of itself, for logs and the admin API. */
typedef struct sg_modem_info {
  int csq_rssi;       /* AT+CSQ <rssi> 0..31, 99 unknown, -1 never read */
  int creg_stat;      /* AT+CREG <stat>, -1 never read */
  int cereg_stat;     /* AT+CEREG <stat>, -1 never read */
  char operator_[64]; /* AT+COPS? <oper> */
  uint64_t cms_errors;
  uint64_t resets;
} sg_modem_info_t;

/* The info of the modem (the first of a pool). */
void sg_modem_info(const sg_connector_t *c, sg_modem_info_t *out);

/* Gives the connector back a part sent before a restart that still waits
 * for its status report, by the smsc_id it was SENT with
 * ("<mr>:<recipient>:<unix ms>"). A pool tries it on each modem's table
 * (a report names no modem; the send time keeps them apart). Returns 0 or
 * SG_EINVAL (not such an id). */
int sg_modem_restore(sg_connector_t *c, const char *smsc_id);

/* Whether a +CMS ERROR code (TS 27.005 3.2.5: 0-127 the RP cause of TS
 * 24.011 E.2, 128-255 TP-FCS of TS 23.040 9.2.3.22, 300+ the modem's own)
 * means the message can never be sent as it is. Unknown codes and text
 * errors (-1) are temporary. */
bool sg_modem_cms_permanent(int code);

/* A short English description of a +CMS ERROR code (static), or NULL. */
const char *sg_modem_cms_text(int code);

#endif
