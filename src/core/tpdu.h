/* tpdu.h - SMS transfer-layer PDUs of 3GPP TS 23.040 section 9.2 as a GSM
 * modem carries them in PDU mode (3GPP TS 27.005 section 3): SMS-SUBMIT
 * (encoded by smsgate, decoded by the modem simulator), SMS-DELIVER and
 * SMS-STATUS-REPORT (decoded by smsgate, encoded by the simulator), and the
 * service-centre address that AT+CMGS and AT+CMGR put in front of them.
 *
 * Pure functions: no I/O, no logging, no allocation. Every buffer belongs to
 * the caller; decoded structures hold copies, never pointers into the input.
 * Field names follow the spec (TP-MTI, TP-MR, TP-DA, ...).
 */
#ifndef SG_CORE_TPDU_H
#define SG_CORE_TPDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/segment.h"

/* TP-MTI (TS 23.040 9.2.3.1), the low two bits of the first octet. As sent
 * by the service centre: 0 SMS-DELIVER, 2 SMS-STATUS-REPORT; as sent by the
 * mobile: 1 SMS-SUBMIT. */
#define SG_TPDU_MTI_DELIVER 0
#define SG_TPDU_MTI_SUBMIT 1
#define SG_TPDU_MTI_STATUS_REPORT 2

#define SG_TPDU_MAX 176      /* longest TPDU: 164 octets + margin */
#define SG_TPDU_UD_MAX 140   /* TP-UD octets */
#define SG_TPDU_ADDR_MAX 20  /* address digits (TS 23.040 9.1.2.5) */
#define SG_TPDU_ALNUM_MAX 11 /* alphanumeric address characters */

/* An address (TS 23.040 9.1.2.5). Type of address = 0x80 | ton << 4 | npi.
 * ton 5 (alphanumeric) carries GSM 7-bit text (UTF-8 here, up to 11
 * characters of the default alphabet); any other ton carries semi-octets:
 * digits 0-9 and '*', '#', 'a', 'b', 'c' (values 0xA-0xE). */
typedef struct sg_tpdu_addr {
  uint8_t ton; /* 0..7 */
  uint8_t npi; /* 0..15 */
  char addr[48];
} sg_tpdu_addr_t;

/* A time stamp (TP-SCTS, TP-DT; TS 23.040 9.2.3.11): the sender's local
 * time and its offset from UTC in quarters of an hour (-79..79). */
typedef struct sg_tpdu_time {
  uint8_t year; /* 0..99, taken as 2000..2099 */
  uint8_t month, day, hour, minute, second;
  int8_t tz_quarters;
} sg_tpdu_time_t;

/* SMS-SUBMIT (TS 23.040 9.2.2.2). */
typedef struct sg_tpdu_submit {
  bool rd;    /* TP-RD: reject duplicates */
  bool srr;   /* TP-SRR: a status report is requested */
  bool rp;    /* TP-RP: reply path */
  uint8_t mr; /* TP-MR; most modems replace it with their own */
  sg_tpdu_addr_t da;
  uint8_t pid; /* TP-PID */
  uint8_t dcs; /* TP-DCS; sg_tpdu_dcs_encoding() reads the alphabet */
  /* TP-VP in the relative format (9.2.3.12.1), or -1 for no TP-VP (TP-VPF
   * 00). Decoding an enhanced or absolute TP-VP gives -1 as well. */
  int vp_relative;
  /* TP-UD: the UDH with its UDHL octet first (udh_len 0: none, TP-UDHI 0),
   * then the user data: unpacked septets for GSM 7-bit (values < 128),
   * octets otherwise. */
  uint8_t udh[SG_TPDU_UD_MAX];
  size_t udh_len;
  uint8_t ud[160];
  size_t ud_len;
} sg_tpdu_submit_t;

/* SMS-DELIVER (TS 23.040 9.2.2.1). */
typedef struct sg_tpdu_deliver {
  bool mms; /* TP-MMS: 1 = no more messages waiting */
  bool sri; /* TP-SRI: the sender asked for a status report */
  bool rp;
  sg_tpdu_addr_t oa;
  uint8_t pid;
  uint8_t dcs;
  sg_tpdu_time_t scts;
  uint8_t udh[SG_TPDU_UD_MAX]; /* as in sg_tpdu_submit_t */
  size_t udh_len;
  uint8_t ud[160];
  size_t ud_len;
} sg_tpdu_deliver_t;

/* SMS-STATUS-REPORT (TS 23.040 9.2.2.3); the optional TP-PI and what it
 * announces are skipped when decoding and never encoded. */
typedef struct sg_tpdu_status_report {
  bool mms;
  bool srq; /* TP-SRQ: 1 = the result of an SMS-COMMAND */
  uint8_t mr;
  sg_tpdu_addr_t ra;
  sg_tpdu_time_t scts;
  sg_tpdu_time_t dt;
  uint8_t st; /* TP-ST (9.2.3.15) */
} sg_tpdu_status_report_t;

/* The alphabet a TP-DCS selects (TS 23.038 section 4): SG_ENC_GSM7,
 * SG_ENC_8BIT or SG_ENC_UCS2. Reserved values read as GSM 7-bit, as the
 * spec asks of a receiver; compressed text reads as 8-bit (smsgate does not
 * decompress). */
sg_encoding_t sg_tpdu_dcs_encoding(uint8_t dcs);

/* The TP-DCS smsgate sends for an encoding, class none: 0x00 GSM 7-bit,
 * 0x04 8-bit, 0x08 UCS-2. */
uint8_t sg_tpdu_dcs_for(sg_encoding_t enc);

/* TP-VP in the relative format (9.2.3.12.1) for a validity of `seconds`:
 * the smallest value that lasts at least that long, capped at 255 (63
 * weeks); 5 minutes at least (value 0). */
uint8_t sg_tpdu_vp_relative(int64_t seconds);

/* How long a relative TP-VP lasts, in seconds. */
int64_t sg_tpdu_vp_seconds(uint8_t vp);

/* The UTC time of a time stamp in Unix milliseconds, or SG_EINVAL for a
 * field out of its range (month 13, hour 24, ...). */
int sg_tpdu_time_to_ms(const sg_tpdu_time_t *t, int64_t *ms);

/* The time stamp of `ms` (Unix, UTC) as local time at `tz_quarters` from
 * UTC (-79..79); years outside 2000..2099 are SG_ERANGE. */
int sg_tpdu_time_from_ms(int64_t ms, int tz_quarters, sg_tpdu_time_t *t);

/* Encodes the service-centre address that precedes a TPDU in the PDU of
 * AT+CMGS/AT+CMGR (TS 27.005 3.1, TS 24.011 8.2.5.1: length in octets
 * including the type octet). sca NULL or an empty address gives the single
 * octet 0x00 ("use the SMSC stored in the modem"). Returns 0, SG_EINVAL
 * (bad digits, alphanumeric) or SG_ENOSPC; *n_out gets the octets written. */
int sg_tpdu_encode_sca(const sg_tpdu_addr_t *sca, uint8_t *out, size_t cap,
                       size_t *n_out);

/* Decodes the service-centre address at the start of `buf`; *consumed gets
 * its length in octets (1 for an empty one, then sca->addr is ""). `sca`
 * may be NULL. Returns 0, SG_ETRUNC or SG_EPROTO (length over 11). */
int sg_tpdu_decode_sca(const uint8_t *buf, size_t len, sg_tpdu_addr_t *sca,
                       size_t *consumed);

/* Encodes an SMS-SUBMIT. TP-UDL counts septets for GSM 7-bit (the UDH and
 * its fill bits included, 9.2.3.16) and octets otherwise. Returns 0 with
 * *n_out the octets written, SG_EINVAL (a bad address, a septet >= 128, a
 * UDH whose UDHL does not match udh_len), SG_ETOOLONG (user data over 140
 * octets) or SG_ENOSPC. */
int sg_tpdu_encode_submit(const sg_tpdu_submit_t *s, uint8_t *out, size_t cap,
                          size_t *n_out);

/* Decodes an SMS-SUBMIT TPDU (without the SCA). Returns 0, SG_ETRUNC (the
 * input ends early), SG_EPROTO (wrong TP-MTI, a field out of range, TP-UDL
 * over its maximum, a UDHL past the user data). Octets after TP-UD are
 * ignored. */
int sg_tpdu_decode_submit(const uint8_t *buf, size_t len,
                          sg_tpdu_submit_t *out);

/* Encodes an SMS-DELIVER; same rules and returns as encode_submit. */
int sg_tpdu_encode_deliver(const sg_tpdu_deliver_t *d, uint8_t *out, size_t cap,
                           size_t *n_out);

/* Decodes an SMS-DELIVER TPDU (without the SCA); as decode_submit. The time
 * stamp's fields are taken as they come (check them with
 * sg_tpdu_time_to_ms()), except that a time zone over 79 is SG_EPROTO. */
int sg_tpdu_decode_deliver(const uint8_t *buf, size_t len,
                           sg_tpdu_deliver_t *out);

/* Encodes an SMS-STATUS-REPORT (no TP-PI). Returns 0, SG_EINVAL, SG_ENOSPC. */
int sg_tpdu_encode_status_report(const sg_tpdu_status_report_t *r, uint8_t *out,
                                 size_t cap, size_t *n_out);

/* Decodes an SMS-STATUS-REPORT TPDU (without the SCA). Returns 0, SG_ETRUNC
 * or SG_EPROTO; what follows TP-ST is not examined. */
int sg_tpdu_decode_status_report(const uint8_t *buf, size_t len,
                                 sg_tpdu_status_report_t *out);

/* Writes `len` octets as upper-case hex (2 * len chars, no NUL). Returns 0
 * or SG_ENOSPC. */
int sg_tpdu_hex_encode(const uint8_t *buf, size_t len, char *out, size_t cap);

/* Reads hex digits (either case, even count) into octets; *n_out gets the
 * count. Returns 0, SG_EILSEQ (a non-hex character or an odd count) or
 * SG_ENOSPC. */
int sg_tpdu_hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap,
                       size_t *n_out);

#endif
