/* modem_int.h - the insides of the modem connector, shared by modem.c (life
 * cycle, device I/O, queue, connector operations) and modem_cmd.c (the
 * command state machine, answers, URCs, reports and inbound messages).
 */
#ifndef SG_CONNECTOR_MODEM_INT_H
#define SG_CONNECTOR_MODEM_INT_H

#include "connector/modem.h"
#include "connector/modem_at.h"
#include "core/tpdu.h"

#define SG__MODEM_OUT_MAX 4096
#define SG__MODEM_WAITING_MAX 1024 /* parts waiting for a status report */
#define SG__MODEM_READS_MAX 256    /* stored messages to read or delete */

/* A part in the queue, with copies of its data. */
typedef struct sg__mpart {
  sg_conn_part_t p;
  uint8_t udh[SG_TPDU_UD_MAX];
  uint8_t ud[160];
  unsigned attempts; /* AT+CMGS answered with a temporary error */
  unsigned unknowns; /* written with no answer before a reset */
} sg__mpart_t;

/* A part sent with TP-SRR, waiting for its final status report. */
typedef struct sg__mwait {
  bool used;
  uint8_t mr;
  char recipient[24];
  char smsc_id[66];
  int64_t sent_ms; /* Unix ms of the +CMGS */
  uint64_t seq;    /* send order: the newest wins a match */
} sg__mwait_t;

/* What the command in flight is. */
typedef enum sg__mcmd {
  SG__MC_NONE = 0,
  SG__MC_SETTLE, /* after opening: everything is ignored for a moment */
  SG__MC_INIT,   /* an initialisation step (m->step) */
  SG__MC_CMGS,   /* sending m->sending */
  SG__MC_CMGR,   /* reading slot m->cmd_slot */
  SG__MC_CMGL,
  SG__MC_CMGD,
  SG__MC_CSQ, /* keepalive */
  SG__MC_CNMA /* acknowledging a +CMT or +CDS */
} sg__mcmd_t;

typedef enum sg__mstate {
  SG__MS_DOWN = 0,
  SG__MS_INIT,
  SG__MS_READY,
  SG__MS_STOPPED
} sg__mstate_t;

typedef struct sg__modem {
  sg_connector_t base; /* first */
  uv_loop_t *loop;
  sg_modem_config_t cfg;
  char *device, *pin, *smsc;
  int fd;
  uv_poll_t poll;
  bool poll_open, poll_closing; /* poll_closing: also the TCP handle */
  /* a TCP serial bridge (modem_tcp.c) */
  bool is_tcp;
  char *tcp_host;
  char tcp_port[8];
  uv_tcp_t tcp;
  bool tcp_open, connecting, writing, gai_busy;
  uv_getaddrinfo_t gai;
  uv_connect_t conn_req;
  uv_write_t wreq;
  uint8_t wbuf[SG__MODEM_OUT_MAX];
  uint8_t rbuf[1024];
  uv_timer_t timer; /* the command timeout, settle, reconnect, retry */
  uv_timer_t kick;  /* runs dispatch outside the caller's stack */
  uv_timer_t idle;  /* keepalive and re-reads */
  int handles_open;
  sg__mstate_t state;
  bool paused, stopping;
  void (*stopped_cb)(sg_connector_t *c);
  sg_at_reader_t rd;
  uint8_t out[SG__MODEM_OUT_MAX];
  size_t out_len;
  /* the command in flight */
  sg__mcmd_t cmd;
  int step;      /* init step index */
  bool prompted; /* AT+CMGS: the PDU was written */
  char cmgs_hex[2 * (SG_TPDU_MAX + 12) + 2];
  int cmgs_mr;        /* from "+CMGS: <mr>", -1 until then */
  unsigned cmd_slot;  /* AT+CMGR/AT+CMGD */
  bool want_pdu_line; /* the next answer line is a stored PDU */
  unsigned pdu_slot;
  int pdu_stat;
  char pdu_hex[SG_AT_LINE_MAX + 1];
  size_t pdu_hex_len;
  bool have_pdu;
  bool registered; /* on AT+CREG or AT+CEREG */
  bool reg_cs, reg_eps;
  bool direct; /* AT+CSMS=1 taken: +CMT/+CDS, each wants AT+CNMA */
  unsigned cnma_pending; /* acked +CMT/+CDS waiting for their AT+CNMA */
  bool sim_needs_pin;
  bool pin_refused; /* never send the PIN again */
  bool reg_waiting; /* polling AT+CREG? until registered */
  uint64_t reg_deadline;
  /* parts */
  sg__mpart_t *q;
  size_t q_head, q_len;
  bool sending; /* q[q_head] is being sent */
  bool said_busy;
  uint64_t retry_at; /* temporary error: no send before this (loop ms) */
  sg__mwait_t *waiting;
  uint64_t seq;
  /* stored messages */
  unsigned reads[SG__MODEM_READS_MAX]; /* slots to read */
  size_t n_reads;
  unsigned deletes[SG__MODEM_READS_MAX]; /* slots acked, to delete */
  size_t n_deletes;
  unsigned rereads[SG__MODEM_READS_MAX]; /* not accepted: read later */
  size_t n_rereads;
  unsigned held[SG__MODEM_READS_MAX]; /* handed to the owner, not acked */
  size_t n_held;
  unsigned acks_pending;
  sg_conn_stats_t st;
  sg_modem_info_t info;
} sg__modem_t;

/* modem.c */
void sg__modem_feed(sg__modem_t *m, const uint8_t *buf, size_t n);
void sg__modem_opened(sg__modem_t *m);
void sg__modem_handle_closed(sg__modem_t *m);
void sg__modem_write(sg__modem_t *m, const char *s, size_t n);
void sg__modem_reset(sg__modem_t *m, const char *why);
void sg__modem_kick(sg__modem_t *m);
void sg__modem_kick_after(sg__modem_t *m, uint64_t ms);
void sg__modem_result(sg__modem_t *m, sg_conn_outcome_t o, int status,
                      const char *smsc_id);
void sg__modem_set_state(sg__modem_t *m, sg__mstate_t s, const char *why);
void sg__modem_timeout(sg__modem_t *m, uint32_t ms);
/* Takes the queued parts never written to the modem out of its queue into
 * out (up to cap), keeping their order; none while a send is under way. */
size_t sg__modem_take_back(sg__modem_t *m, sg__mpart_t *out, size_t cap);

/* modem_cmd.c */
void sg__modem_on_open(sg__modem_t *m);
void sg__modem_event(sg__modem_t *m, const sg_at_event_t *ev);
void sg__modem_dispatch(sg__modem_t *m);
void sg__modem_on_timeout(sg__modem_t *m);
void sg__modem_ack(sg__modem_t *m, uint64_t token, bool accepted);
int sg__modem_restore(sg__modem_t *m, const char *smsc_id);
void sg__modem_link(const sg__modem_t *m, sg_conn_link_t *out);

/* modem_tcp.c: a TCP serial bridge instead of a device */
int sg__modem_tcp_parse(const char *device, char **host, char port[8]);
int sg__modem_tcp_open(sg__modem_t *m);
void sg__modem_tcp_flush(sg__modem_t *m);
void sg__modem_tcp_close(sg__modem_t *m);

/* modem_pool.c */
int sg__modem_pool_new(uv_loop_t *loop, const sg_modem_config_t *cfg,
                       const sg_conn_callbacks_t *cbs, void *owner,
                       sg_connector_t **out);
bool sg__modem_is_pool(const sg_connector_t *c);
/* The i-th modem of a pool, NULL past the last. */
sg_connector_t *sg__modem_pool_member(const sg_connector_t *c, size_t i);

#endif
