/* modem_sim.h - a GSM modem simulator on a pseudo-terminal or behind a TCP
 * port, for tests and demos of the modem connector: `smsgate sim modem
 * --link PATH` or `--tcp HOST:PORT`.
 *
 * It opens a pty (posix_openpt), makes its slave raw, symlinks it at PATH
 * (or listens on TCP like a ser2net bridge, one peer at a time) and
 * answers AT commands as a modem in PDU mode does (TS 27.007, 27.005):
 * AT, ATZ, ATE0/1, AT+CMEE, AT+CPIN, AT+CREG, AT+CMGF, AT+CNMI, AT+CSQ,
 * AT+COPS?, AT+CSCA, AT+CMGS (prompt, PDU, Ctrl-Z), AT+CMGR, AT+CMGL,
 * AT+CMGD, AT+CEREG?, AT+CSMS, AT+CNMA. A submit with TP-SRR gets a +CDS
 * status report after a delay; inbound messages are stored on demand and
 * announced with +CMTI, or, after AT+CSMS=1 and AT+CNMI=2,2, routed with
 * +CMT one at a time, each kept until AT+CNMA acknowledges it. Faults:
 * a +CMS ERROR rate, harmless URCs (RING, +CREG, ...) injected before any
 * line of an answer, and a silent mode in which it answers nothing.
 *
 * Threading: everything runs on the loop given to sg_sim_modem_new().
 */
#ifndef SG_SIM_MODEM_SIM_H
#define SG_SIM_MODEM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "core/tpdu.h"

typedef struct sg_sim_modem sg_sim_modem_t;

typedef struct sg_sim_modem_config {
  const char *link;         /* symlink to the pty slave; or: */
  const char *tcp;          /* "HOST:PORT" to listen on instead */
  const char *pin;          /* SIM PIN to ask for; NULL: READY */
  double cms_error_rate;    /* fraction of AT+CMGS answered with an error */
  uint32_t cms_error;       /* that error (default 500, unknown error) */
  double urc_rate;          /* chance of a URC before each answer line */
  uint32_t report_delay_ms; /* +CDS after a submit with TP-SRR (200) */
  uint8_t report_status;    /* TP-ST of the reports (0: received by SME) */
  uint8_t first_mr;         /* TP-MR of the first submit (0) */
  uint32_t seed;            /* of the fault choices (1) */
  bool silent;              /* answer nothing at all */
  bool eps_only;            /* registered on AT+CEREG only (LTE), not on
                               AT+CREG */
} sg_sim_modem_config_t;

typedef struct sg_sim_modem_stats {
  uint64_t commands;  /* command lines received */
  uint64_t submitted; /* AT+CMGS answered +CMGS */
  uint64_t cms_errors;
  uint64_t reports;   /* +CDS sent */
  uint64_t mo_stored; /* inbound messages stored (+CMTI sent) */
  uint64_t mo_read;   /* AT+CMGR answered with a message */
  uint64_t mo_deleted;
  uint64_t urcs_injected;
  uint64_t pin_attempts; /* AT+CPIN=<pin> received */
  uint64_t mo_direct;    /* inbound messages routed with +CMT */
  uint64_t cnma;         /* AT+CNMA that acknowledged something */
  uint64_t connections;  /* TCP peers accepted */
  unsigned stored;       /* messages in its memory now */
} sg_sim_modem_stats_t;

/* The defaults above, link NULL. */
void sg_sim_modem_config_default(sg_sim_modem_config_t *cfg);

/* Creates the simulator and its pty, symlinked at cfg->link (an existing
 * symlink there is replaced; any other file is SG_EEXIST), or, with
 * cfg->tcp, its listening socket. Returns 0, SG_EINVAL, SG_EEXIST, SG_EIO
 * (pty, symlink or listen failed, errbuf says why) or SG_ENOMEM. */
int sg_sim_modem_new(uv_loop_t *loop, const sg_sim_modem_config_t *cfg,
                     sg_sim_modem_t **out, char *errbuf, size_t errcap);

/* The pty slave's path (/dev/pts/N), or "tcp://HOST:PORT" with the port
 * actually bound. */
const char *sg_sim_modem_tty(const sg_sim_modem_t *sim);

/* Closes its handles and removes the symlink; stopped_cb (may be NULL)
 * runs when the handles are closed. */
void sg_sim_modem_stop(sg_sim_modem_t *sim, void (*stopped_cb)(void *arg),
                       void *arg);

/* Frees a stopped simulator. NULL is a no-op. */
void sg_sim_modem_free(sg_sim_modem_t *sim);

/* Stores an inbound message from `from` (digits, or a name: alphanumeric
 * sender) with UTF-8 text, split into parts as needed, and announces each
 * with +CMTI. Returns the number of parts (> 0), SG_EINVAL (bad text or
 * sender) or SG_ENOSPC (memory full). */
int sg_sim_modem_mo(sg_sim_modem_t *sim, const char *from, const char *text);

void sg_sim_modem_set_silent(sg_sim_modem_t *sim, bool silent);
/* hold true: status reports that fall due wait; false: they go out (the
 * ones due at once). For tests that need a report after an event rather
 * than after a delay. */
void sg_sim_modem_hold_reports(sg_sim_modem_t *sim, bool hold);
void sg_sim_modem_set_cms_error_rate(sg_sim_modem_t *sim, double rate);
void sg_sim_modem_set_urc_rate(sg_sim_modem_t *sim, double rate);

void sg_sim_modem_stats(const sg_sim_modem_t *sim, sg_sim_modem_stats_t *out);

/* The i-th SMS-SUBMIT it accepted, oldest first, and the TP-MR it gave it;
 * returns 0 or SG_ENOENT (only the last 256 are kept). */
int sg_sim_modem_submitted(const sg_sim_modem_t *sim, size_t i,
                           sg_tpdu_submit_t *out, uint8_t *mr);

/* Runs a control line: "mo FROM TEXT", "silent on|off", "cms RATE",
 * "urc RATE", "stats". Writes a one-line reply (JSON for stats). Returns 0
 * or SG_EINVAL (reply says why). */
int sg_sim_modem_command(sg_sim_modem_t *sim, const char *line, char *reply,
                         size_t cap);

#endif
