/* smsc_int.h - the inside of the SMSC simulator, shared by smsc.c
 * (listeners, connections, binds, life cycle), smsc_submit.c (answers,
 * ids, the record file, fault injection), smsc_deliver.c (receipts and MO)
 * and smsc_ctl.c (mix parsing, control lines, counters as JSON). Internal
 * to src/sim. */
#ifndef SG_SIM_SMSC_INT_H
#define SG_SIM_SMSC_INT_H

#include <stdio.h>

#include "connector/smpp_link.h"
#include "sim/smsc.h"

/* ---- Rings --------------------------------------------------------------- */

/* A FIFO of fixed-size entries in one power-of-two array that doubles when
 * full; the only allocations of the hot path, and only while it grows. */
typedef struct sg__sim_ring {
  uint8_t *buf;
  size_t esize;
  size_t cap; /* entries, a power of two (0 before the first push) */
  size_t head;
  size_t count;
} sg__sim_ring_t;

void sg__sim_ring_init(sg__sim_ring_t *r, size_t esize);
void sg__sim_ring_free(sg__sim_ring_t *r);
/* A new entry at the tail (uninitialised), or NULL when it cannot grow. */
void *sg__sim_ring_push(sg__sim_ring_t *r);
/* The head entry, or NULL when empty. */
void *sg__sim_ring_front(const sg__sim_ring_t *r);
void sg__sim_ring_pop(sg__sim_ring_t *r);

/* ---- Entries ------------------------------------------------------------- */

#define SG__SIM_NO_SLOT UINT32_MAX
#define SG__SIM_NO_ACCT UINT16_MAX
#define SG__SIM_ADDR 21 /* C-Octet String of submit_sm addresses */

/* An address as it goes into deliver_sm. */
typedef struct sg__sim_addr {
  uint8_t ton, npi;
  char addr[SG__SIM_ADDR];
} sg__sim_addr_t;

/* A receipt waiting for its time (and for a receiver). */
typedef struct sg__sim_receipt {
  uint64_t due; /* loop time */
  uint64_t msgid;
  int64_t submit_s;   /* Unix time of the submit */
  uint32_t slot, gen; /* the connection the message came on */
  uint16_t acct;      /* its system_id */
  uint8_t mix;        /* index into dlr_mix: the outcome */
  uint8_t tries;      /* times sent and refused or left unanswered */
  uint8_t text_len;
  bool requeued;      /* put back out of due order: never holds those behind */
  uint64_t sent_ns;   /* when its deliver_sm was written (uv_hrtime) */
  sg__sim_addr_t src; /* of the submitted message */
  sg__sim_addr_t dst;
  char text[SG_RECEIPT_TEXT_MAX];
} sg__sim_receipt_t;

/* Counts of values in buckets a 16th of a power of two wide: the
 * percentiles of the receipts' round trips and waits. */
#define SG__SIM_HIST_BUCKETS 640
typedef struct sg__sim_hist {
  uint64_t n, sum, max;
  uint32_t b[SG__SIM_HIST_BUCKETS];
} sg__sim_hist_t;

void sg__sim_hist_add(sg__sim_hist_t *h, uint64_t v);
/* The value under which a fraction q of those added fall (the upper bound
 * of its bucket), 0 when none was added. */
uint64_t sg__sim_hist_quantile(const sg__sim_hist_t *h, double q);

/* A response held back by latency_ms. */
typedef struct sg__sim_resp {
  uint64_t due;
  uint64_t msgid; /* 0: none (error status) */
  uint32_t slot, gen;
  uint32_t command_id; /* of the request */
  uint32_t seq;
  uint32_t status;
} sg__sim_resp_t;

/* One MO part waiting for a window slot. */
typedef struct sg__sim_mo {
  uint32_t slot, gen; /* target connection */
  uint16_t acct;      /* or any bind of this system_id; NO_ACCT: any */
  uint8_t data_coding;
  uint8_t esm_class;
  uint8_t sm_length;
  sg__sim_addr_t src, dst;
  uint8_t short_message[SG_SEG_UDH_MAX + SG_SEG_UD_MAX];
  uint16_t sar_ref; /* SAR TLVs instead of a UDH: total > 0 */
  uint8_t sar_total, sar_seq;
} sg__sim_mo_t;

/* Request contexts of our deliver_sm, told apart in response events: a
 * receipt's is SG__SIM_CTX_INFLIGHT + its slot in sim->inflight. */
#define SG__SIM_CTX_RECEIPT ((void *)1)
#define SG__SIM_CTX_MO ((void *)2)
#define SG__SIM_CTX_INFLIGHT ((uintptr_t)16)

/* ---- Connections and accounts -------------------------------------------- */

typedef struct sg__sim_conn {
  sg_sim_smsc_t *sim;
  sg_smpp_link_t *link;
  uint32_t slot, gen;
  uint16_t acct;
  sg_smpp_bind_type_t bind;
  bool bound;
  bool hung; /* stopped answering (hang_every): silent until it closes */
  uint64_t requests;
  char peer[64];
} sg__sim_conn_t;

#define SG__SIM_ACCT_MAX 1024
typedef struct sg__sim_acct {
  char system_id[16];
  uint32_t rx_slot, rx_gen; /* last receiver found: tried first */
} sg__sim_acct_t;

/* ---- The simulator ------------------------------------------------------- */

struct sg_sim_smsc {
  uv_loop_t *loop;
  sg_sim_smsc_config_t cfg; /* strings point into `strings` */
  char *strings;            /* one block holding every copied string */
  sg_smpp_link_config_t link_cfg;
  sg_smpp_link_tls_t *tls;

  uv_tcp_t listener, tls_listener;
  uv_timer_t dlr_timer, resp_timer, mo_timer, hk_timer, stop_timer;
  bool started, stopping, stopped, listening, tls_listening;
  int handles_open;
  uint16_t port, tls_port;
  void (*stopped_cb)(sg_sim_smsc_t *sim, void *user);
  void *stopped_user;
  uint64_t started_at;

  sg__sim_conn_t **conns; /* by slot; NULL when free */
  uint32_t *gens;         /* generation of each slot */
  uint32_t n_slots;
  uint32_t rr; /* round-robin cursor for MO */

  sg__sim_acct_t *accts;
  uint16_t n_accts;

  sg__sim_ring_t receipts; /* sg__sim_receipt_t, by due time */
  /* Receipts written and not answered yet, kept to be sent again if they
   * are refused or left unanswered; free slots on a stack. */
  sg__sim_receipt_t *inflight;
  uint32_t *inflight_free;
  uint32_t inflight_cap, inflight_nfree;
  sg__sim_ring_t resps; /* sg__sim_resp_t, by due time */
  sg__sim_ring_t lates; /* sg__sim_resp_t held late_ms, by due time */
  uv_timer_t late_timer;
  sg__sim_ring_t mos; /* sg__sim_mo_t */
  uint64_t next_id;
  uint8_t mo_ref;
  double mo_tokens;
  uint64_t mo_last;
  uint64_t mo_seq;
  uint64_t rng;
  uint32_t mix_total;
  int64_t date_s; /* the last receipt date converted, and it */
  sg_receipt_date_t date;
  bool date_valid;

  FILE *record;
  bool record_dirty;

  sg_smpp_pdu_t *pdu;  /* scratch for the PDUs we build */
  sg_segments_t *segs; /* scratch for MO segmentation, made on first use */

  sg_sim_smsc_stats_t st;
  sg__sim_hist_t rtt;  /* deliver_sm receipts' round trips, us */
  sg__sim_hist_t wait; /* receipts' waits past their due time, ms */
  uint64_t inflight_sum, inflight_max;
};

/* smsc.c */
sg__sim_conn_t *sg__sim_conn_get(const sg_sim_smsc_t *sim, uint32_t slot,
                                 uint32_t gen);
bool sg__sim_conn_receives(const sg__sim_conn_t *c);
void sg__sim_drop(sg__sim_conn_t *c, const char *why);
/* The connection stops answering (hang_every). */
void sg__sim_hang(sg__sim_conn_t *c);
void sg__sim_log(const sg_sim_smsc_t *sim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
double sg__sim_rand(sg_sim_smsc_t *sim);
void sg__sim_count_status(sg_sim_smsc_t *sim, uint32_t status);

/* smsc_submit.c */
void sg__sim_on_request(sg__sim_conn_t *c, const sg_smpp_event_t *ev);
void sg__sim_resp_timer_cb(uv_timer_t *t);
void sg__sim_late_timer_cb(uv_timer_t *t);
size_t sg__sim_format_id(const sg_sim_smsc_t *sim, uint64_t id, char *out);
/* The id as a receipt writes it (receipt_id_format). */
size_t sg__sim_format_receipt_id(const sg_sim_smsc_t *sim, uint64_t id,
                                 char *out);
int sg__sim_record_open(sg_sim_smsc_t *sim, char *errbuf, size_t errcap);

/* smsc_deliver.c */
void sg__sim_queue_receipt(sg_sim_smsc_t *sim, const sg__sim_conn_t *c,
                           uint64_t msgid, uint64_t delay_ms, uint8_t rd,
                           const sg__sim_addr_t *src, const sg__sim_addr_t *dst,
                           uint8_t data_coding, const uint8_t *sm,
                           size_t sm_len, bool udhi);
void sg__sim_pump(sg_sim_smsc_t *sim);
void sg__sim_dlr_timer_cb(uv_timer_t *t);
void sg__sim_mo_timer_cb(uv_timer_t *t);
void sg__sim_on_response(sg__sim_conn_t *c, const sg_smpp_event_t *ev);

#endif
