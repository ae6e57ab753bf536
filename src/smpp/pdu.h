/* pdu.h - SMPP 3.4 PDUs: the decoded representation, the strict decoder, the
 * encoder, the incremental framer and a buffered reader.
 *
 * Everything here is pure: no I/O, no logging, no allocation except inside
 * sg_smpp_reader_t (through core/alloc.h). The protocol is defined once, as
 * data, in pdu.def (PDUs and their mandatory fields), tlv.def (optional
 * parameters) and status.def (command_status values); this header turns
 * those tables into enums and structs.
 *
 * A decoded PDU (sg_smpp_pdu_t) holds:
 *   - the header (command_length, command_id, command_status,
 *     sequence_number, section 3.2);
 *   - the mandatory body in `body.<pdu name>` (body.submit_sm.source_addr,
 *     body.deliver_sm.short_message ...), every field named as in the spec.
 *     C-Octet Strings are NUL-terminated char arrays sized to the spec
 *     maximum including the NUL (source_addr[21]); short_message is an
 *     inline uint8_t[254] whose length is sm_length. Decoding copies these
 *     fields, so they stay valid after the input buffer is gone;
 *   - the optional parameters (TLVs) in wire order in tlvs[0..n_tlvs), known
 *     and unknown alike, so that re-encoding reproduces vendor TLVs
 *     untouched. Values of up to 4 octets (every integer TLV among them) are
 *     copied into the entry; a longer value (message_payload,
 *     receipted_message_id ...) is a POINTER INTO THE DECODED BUFFER (or,
 *     when you build a PDU, into your memory): keep that buffer alive and
 *     unchanged for as long as you read those values or until you encode.
 *
 * sizeof(sg_smpp_pdu_t) is about 8 KiB because submit_multi's lists are
 * inline (254 entries each). Don't clear a whole one on the hot path:
 * sg_smpp_pdu_init() and the decoder touch only the header, the TLV count
 * and the body of the command at hand.
 *
 * Thread-safety: all functions are reentrant; objects are not shared.
 */
#ifndef SG_SMPP_PDU_H
#define SG_SMPP_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Flags of the PDU table (pdu.def). */
#define SG__SMPP_TLVS 0x01u   /* optional parameters may follow the body */
#define SG__SMPP_NORESP 0x02u /* a request with no response */

#include "smpp/pdu.def"
#include "smpp/status.def"
#include "smpp/tlv.def"

/* ---- Constants -------------------------------------------------------- */

#define SG_SMPP_HEADER_LEN 16u
/* Default upper bound for command_length: a submit_sm carrying a
 * message_payload of several concatenated-SMS worth of text fits with room
 * to spare, while a peer cannot make us buffer more than 64 KiB. */
#define SG_SMPP_MAX_PDU_DEFAULT 65536u
/* Most TLVs one decoded PDU can hold; more is a decode error
 * (SG_SMPP_FAULT_TLV_TOO_MANY). A PDU carrying every standard TLV has 44. */
#define SG_SMPP_TLV_MAX 48
/* submit_multi: maximum number_of_dests / no_unsuccess (section 4.5.1). */
#define SG_SMPP_MULTI_MAX 254
/* short_message maximum (sm_length, section 4.4.1). */
#define SG_SMPP_SM_MAX 254
/* command_id bit that marks a response (section 5.1.2.1). */
#define SG_SMPP_RESP_BIT 0x80000000u

/* command_id values: SG_SMPP_SUBMIT_SM = 0x00000004 ... Response ids exceed
 * INT_MAX; GCC and Clang give such an enum an unsigned type. Compare them
 * with uint32_t values. */
typedef enum sg_smpp_command_id {
#define SG__SMPP_CMD_ENUM(name, NAME, id, body, flags) SG_SMPP_##NAME = (id),
  SG_SMPP_PDU_LIST(SG__SMPP_CMD_ENUM)
#undef SG__SMPP_CMD_ENUM
} sg_smpp_command_id_t;

/* command_status values: SG_SMPP_ESME_ROK, SG_SMPP_ESME_RINVCMDID ... */
typedef enum sg_smpp_status {
#define SG__SMPP_STATUS_ENUM(NAME, value, text) SG_SMPP_ESME_##NAME = (value),
  SG_SMPP_STATUS_LIST(SG__SMPP_STATUS_ENUM)
#undef SG__SMPP_STATUS_ENUM
} sg_smpp_status_t;

/* TLV tags: SG_SMPP_TLV_MESSAGE_PAYLOAD = 0x0424 ... */
typedef enum sg_smpp_tlv_tag {
#define SG__SMPP_TLV_ENUM(name, NAME, tag, type, min, max)                     \
  SG_SMPP_TLV_##NAME = (tag),
  SG_SMPP_TLV_LIST(SG__SMPP_TLV_ENUM)
#undef SG__SMPP_TLV_ENUM
} sg_smpp_tlv_tag_t;

/* Value types of tlv.def. */
typedef enum sg_smpp_tlv_type {
  SG_SMPP_TLV_T_UNKNOWN = 0, /* not a standard SMPP 3.4 tag */
  SG_SMPP_TLV_T_INT8,
  SG_SMPP_TLV_T_INT16,
  SG_SMPP_TLV_T_INT32,
  SG_SMPP_TLV_T_COCTET,
  SG_SMPP_TLV_T_OCTETS,
  SG_SMPP_TLV_T_EMPTY
} sg_smpp_tlv_type_t;

/* ---- Body structs (generated from pdu.def) ---------------------------- */

#define SG__SMPP_MEMBER(T, kind, name, max, status)                            \
  SG__SMPP_MEMBER_##kind(name, max)
#define SG__SMPP_MEMBER_INT8(name, max) uint8_t name;
#define SG__SMPP_MEMBER_INT16(name, max) uint16_t name;
#define SG__SMPP_MEMBER_INT32(name, max) uint32_t name;
#define SG__SMPP_MEMBER_COCTET(name, max) char name[max];
#define SG__SMPP_MEMBER_TIME(name, max) char name[max];
#define SG__SMPP_MEMBER_OCTETS(name, max) uint8_t name[max];
#define SG__SMPP_MEMBER_DESTS(name, max) sg_smpp_dest_address_t name[max];
#define SG__SMPP_MEMBER_UNSUCCESS(name, max) sg_smpp_unsuccess_sme_t name[max];

/* One dest_address of submit_multi (section 4.5.1.1): dest_flag 1 is an SME
 * address (dest_addr_ton, dest_addr_npi, destination_addr), 2 a
 * distribution list (dl_name, sharing storage with destination_addr). */
#define SG_SMPP_DEST_FLAG_SME 1
#define SG_SMPP_DEST_FLAG_DL 2
typedef struct sg_smpp_dest_address {
  uint8_t dest_flag;
  uint8_t dest_addr_ton;
  uint8_t dest_addr_npi;
  union {
    char destination_addr[21];
    char dl_name[21];
  };
} sg_smpp_dest_address_t;

/* One unsuccess_sme of submit_multi_resp (section 4.5.2.1). */
typedef struct sg_smpp_unsuccess_sme {
  SG_SMPP_ELEM_unsuccess_sme(SG__SMPP_MEMBER, struct sg_smpp_unsuccess_sme)
} sg_smpp_unsuccess_sme_t;

/* Header-only PDUs (enquire_link, unbind, generic_nack ...) have no body;
 * the placeholder keeps C happy and is never encoded. */
typedef struct sg_smpp_body_none {
  uint8_t unused_;
} sg_smpp_body_none_t;

/* sg_smpp_body_<layout>_t for every layout of pdu.def. */
#define SG__SMPP_BODY_STRUCT(body)                                             \
  typedef struct sg_smpp_body_##body {                                         \
    SG_SMPP_BODY_##body(SG__SMPP_MEMBER, struct sg_smpp_body_##body)           \
  } sg_smpp_body_##body##_t;
SG_SMPP_BODY_LIST(SG__SMPP_BODY_STRUCT)
#undef SG__SMPP_BODY_STRUCT

/* sg_smpp_<pdu>_t for every PDU: sg_smpp_submit_sm_t, sg_smpp_deliver_sm_t
 * (both sg_smpp_body_sm_t), sg_smpp_enquire_link_t ... */
#define SG__SMPP_PDU_TYPEDEF(name, NAME, id, body, flags)                      \
  typedef sg_smpp_body_##body##_t sg_smpp_##name##_t;
SG_SMPP_PDU_LIST(SG__SMPP_PDU_TYPEDEF)
#undef SG__SMPP_PDU_TYPEDEF

/* ---- TLVs and the PDU ------------------------------------------------- */

/* One optional parameter (section 3.2.2 / 5.3). Read the value through
 * sg_smpp_tlv_value(): `value` is NULL when the value (at most 4 octets) is
 * held in `local`, which is how short values and integers are stored. */
typedef struct sg_smpp_tlv {
  uint16_t tag;
  uint16_t length;      /* length of the value part, octets */
  uint8_t local[4];     /* the value when value == NULL */
  const uint8_t *value; /* borrowed: into the decoded buffer / your memory */
} sg_smpp_tlv_t;

typedef struct sg_smpp_pdu {
  uint32_t command_length; /* as decoded; the encoder computes its own */
  uint32_t command_id;     /* sg_smpp_command_id_t */
  uint32_t command_status; /* sg_smpp_status_t; 0 in requests */
  uint32_t sequence_number;
  /* A response decoded without a body (allowed when command_status != 0,
   * e.g. "the submit_sm_resp PDU Body is not returned if the command_status
   * field contains a non-zero value", section 4.4.2). When set, the encoder
   * writes the header only. */
  bool body_omitted;
  uint16_t n_tlvs;
  sg_smpp_tlv_t tlvs[SG_SMPP_TLV_MAX];
  union {
#define SG__SMPP_UNION_MEMBER(name, NAME, id, body, flags)                     \
  sg_smpp_body_##body##_t name;
    SG_SMPP_PDU_LIST(SG__SMPP_UNION_MEMBER)
#undef SG__SMPP_UNION_MEMBER
  } body;
} sg_smpp_pdu_t;

/* ---- Decode faults ---------------------------------------------------- */

/* Why a PDU was rejected. Each fault has a return code (SG_E*) and the
 * command_status a peer should get back (sg_smpp_fault_status()); where a
 * specific mandatory field is at fault, sg_smpp_decode_err_t.command_status
 * carries that field's own status from pdu.def (ESME_RINVSRCADR for
 * source_addr ...), which is more precise. */
#define SG_SMPP_FAULT_LIST(X)                                                  \
  X(NONE, 0, ROK, "no fault")                                                  \
  X(SHORT_HEADER, SG_ETRUNC, RINVCMDLEN, "fewer than 16 octets")               \
  X(CMD_LENGTH, SG_ERANGE, RINVCMDLEN,                                         \
    "command_length below 16 or above the maximum")                            \
  X(LEN_MISMATCH, SG_EINVAL, RINVCMDLEN,                                       \
    "buffer length differs from command_length")                               \
  X(CMD_ID, SG_ENOTSUP, RINVCMDID, "unknown command_id")                       \
  X(TRUNCATED, SG_ETRUNC, RINVCMDLEN,                                          \
    "mandatory fields run past command_length")                                \
  X(CSTRING_UNTERMINATED, SG_EILSEQ, RINVCMDLEN,                               \
    "C-Octet String not NUL-terminated within the PDU")                        \
  X(CSTRING_TOO_LONG, SG_ETOOLONG, RINVCMDLEN,                                 \
    "C-Octet String longer than its spec maximum")                             \
  X(BAD_TIME, SG_EPROTO, RINVCMDLEN,                                           \
    "time field neither empty nor 16 characters")                              \
  X(SM_LENGTH, SG_ETOOLONG, RINVMSGLEN,                                        \
    "sm_length above 254 or past the end of the PDU")                          \
  X(LIST_COUNT, SG_ERANGE, RINVNUMDESTS,                                       \
    "number_of_dests or no_unsuccess above 254")                               \
  X(DEST_FLAG, SG_EPROTO, RINVDESTFLAG, "dest_flag neither 1 nor 2")           \
  X(TRAILING, SG_EPROTO, RINVCMDLEN,                                           \
    "octets after the body of a PDU that takes no TLVs")                       \
  X(TLV_HEADER, SG_ETRUNC, RINVOPTPARSTREAM,                                   \
    "fewer than 4 octets left for a TLV tag and length")                       \
  X(TLV_PAST_END, SG_ETRUNC, RINVOPTPARSTREAM,                                 \
    "TLV length runs past command_length")                                     \
  X(TLV_LENGTH, SG_ERANGE, RINVPARLEN,                                         \
    "TLV length outside the size its tag defines")                             \
  X(TLV_VALUE, SG_EILSEQ, RINVOPTPARAMVAL,                                     \
    "C-Octet String TLV not NUL-terminated")                                   \
  X(TLV_TOO_MANY, SG_ETOOLONG, RINVOPTPARSTREAM,                               \
    "more TLVs than SG_SMPP_TLV_MAX")                                          \
  X(BOTH_PAYLOADS, SG_EPROTO, ROPTPARNOTALLWD,                                 \
    "short_message and message_payload both carry data")

typedef enum sg_smpp_fault {
#define SG__SMPP_FAULT_ENUM(NAME, err, status, text) SG_SMPP_FAULT_##NAME,
  SG_SMPP_FAULT_LIST(SG__SMPP_FAULT_ENUM)
#undef SG__SMPP_FAULT_ENUM
      SG_SMPP_FAULT_COUNT_
} sg_smpp_fault_t;

/* Details of a failed decode, for the answer and for the log. */
typedef struct sg_smpp_decode_err {
  sg_smpp_fault_t fault;
  uint32_t command_status; /* ESME_R* to answer (field-specific if known) */
  const char *field;       /* spec name of the field or TLV at fault, or NULL */
  uint16_t tlv_tag;        /* the TLV at fault, 0 if none */
  size_t offset;           /* octet offset of the fault within the PDU */
  bool header_valid;       /* the four header fields of `out` are valid */
} sg_smpp_decode_err_t;

/* Decoder options. A NULL options pointer means all defaults. */
#define SG_SMPP_DECODE_ALLOW_BOTH_PAYLOADS 0x01u /* skip that check */
typedef struct sg_smpp_decode_opts {
  size_t max_len; /* largest command_length; 0 = SG_SMPP_MAX_PDU_DEFAULT */
  unsigned flags; /* SG_SMPP_DECODE_* */
} sg_smpp_decode_opts_t;

/* ---- Framing ---------------------------------------------------------- */

/* Looks at the start of a byte stream and says how long the next PDU is.
 * Returns its command_length (> 0) when all of it is in buf[0..len),
 * SG_NEED_MORE (0) when more octets are needed, or SG_ERANGE as soon as the
 * first 4 octets show a command_length below 16 or above max_len (0 means
 * SG_SMPP_MAX_PDU_DEFAULT). After SG_ERANGE the stream cannot be
 * resynchronised: answer generic_nack with ESME_RINVCMDLEN and close.
 * Never reads past buf[len - 1]. */
long sg_smpp_frame(const uint8_t *buf, size_t len, size_t max_len);

/* A buffered reader: feed it the pieces a socket delivers, take out whole
 * PDUs. Owns one buffer (sg_realloc), at least 4 KiB and grown by doubling
 * only when the octets fed and not yet taken do not fit; octets already
 * taken are reclaimed first. Because sg_smpp_reader_next() refuses a
 * command_length above max_len as soon as it sees it, a peer cannot make
 * the buffer grow past about twice max_len plus one read.
 *
 *   sg_smpp_reader_t r;
 *   sg_smpp_reader_init(&r, 0);
 *   on data:  sg_smpp_reader_feed(&r, data, n);
 *             while ((n = sg_smpp_reader_next(&r, &pdu)) > 0)
 *               sg_smpp_pdu_decode(pdu, n, &p, NULL, &err) ...
 *             if (n < 0) -> generic_nack(ESME_RINVCMDLEN), close
 *   sg_smpp_reader_close(&r);
 */
typedef struct sg_smpp_reader {
  uint8_t *buf;
  size_t cap;     /* allocated size of buf */
  size_t start;   /* first unconsumed octet */
  size_t end;     /* one past the last octet fed */
  size_t max_len; /* command_length bound */
  int error;      /* sticky: once a bad command_length is seen */
} sg_smpp_reader_t;

/* Initialises an embedded reader with no buffer yet. max_len as for
 * sg_smpp_frame(). Never fails. */
void sg_smpp_reader_init(sg_smpp_reader_t *r, size_t max_len);

/* Frees the buffer. The reader may be initialised again afterwards. */
void sg_smpp_reader_close(sg_smpp_reader_t *r);

/* Copies n octets into the reader. Returns 0, SG_ENOMEM (nothing was
 * copied), or the sticky SG_ERANGE once the stream is known to be bad.
 * Invalidates pointers returned by sg_smpp_reader_next(). */
int sg_smpp_reader_feed(sg_smpp_reader_t *r, const uint8_t *data, size_t n);

/* For reading from a socket straight into the reader (e.g. a libuv
 * alloc_cb): makes room for at least `want` octets (4096 if 0) and returns
 * where to write them in *dst and how many fit in *avail; then report the
 * number actually written with sg_smpp_reader_commit(). Returns 0 or
 * SG_ENOMEM. Invalidates pointers returned by sg_smpp_reader_next(). */
int sg_smpp_reader_space(sg_smpp_reader_t *r, size_t want, uint8_t **dst,
                         size_t *avail);
void sg_smpp_reader_commit(sg_smpp_reader_t *r, size_t n);

/* Takes the next whole PDU: returns its length (> 0) and points *pdu at it
 * (valid until the next feed/space/close call), SG_NEED_MORE (0), or
 * SG_ERANGE (sticky) for an invalid command_length. */
long sg_smpp_reader_next(sg_smpp_reader_t *r, const uint8_t **pdu);

/* Octets fed and not yet taken out. */
size_t sg_smpp_reader_pending(const sg_smpp_reader_t *r);

/* ---- Decode and encode ------------------------------------------------ */

/* Decodes exactly one PDU, buf[0..len) with len == command_length (as
 * delimited by sg_smpp_frame()/sg_smpp_reader_next()).
 *
 * Strict and bounded (section 3 and 4 layouts, section 5 field sizes):
 * command_length in 16..max_len and equal to len; a known command_id; every
 * C-Octet String NUL-terminated within its spec maximum; time fields empty
 * or 16 characters; sm_length <= 254 and within the PDU; list counts <= 254
 * and dest_flag 1 or 2; TLVs only on PDUs that take them, each with its
 * 4-octet header and value inside the PDU and, for standard tags, a length
 * within the size tlv.def gives (C-Octet String TLVs NUL-terminated); at
 * most SG_SMPP_TLV_MAX TLVs; and, unless opts allows it, not both a
 * non-empty short_message and a message_payload TLV (section 5.3.2.32: with
 * message_payload, sm_length should be 0). A response with command_status
 * != 0 and no body at all is accepted (body_omitted set, body zeroed).
 *
 * On success fills *out (the header, body.<command>, tlvs) and returns 0;
 * octet/string TLV values point into buf (see the top of this file).
 * On failure returns the fault's SG_E* code (see SG_SMPP_FAULT_LIST) and,
 * if err is not NULL, fills *err; when err->header_valid, out's four header
 * fields are set so that the session can answer the right sequence_number
 * (see sg_smpp_reject_command_id()). *out's body is unspecified then.
 * Never reads outside buf[0..len). opts may be NULL. */
int sg_smpp_pdu_decode(const uint8_t *buf, size_t len, sg_smpp_pdu_t *out,
                       const sg_smpp_decode_opts_t *opts,
                       sg_smpp_decode_err_t *err);

/* Clears the header, the TLVs and body.<command_id>'s struct (only that
 * much, so it is cheap on the hot path) and sets command_id and
 * sequence_number. An unknown command_id leaves the body untouched. */
void sg_smpp_pdu_init(sg_smpp_pdu_t *pdu, uint32_t command_id,
                      uint32_t sequence_number);

/* Number of octets sg_smpp_pdu_encode() would write, or a negative SG_E*
 * code for a PDU it would refuse (as sg_smpp_pdu_encode()). */
long sg_smpp_pdu_size(const sg_smpp_pdu_t *pdu);

/* Encodes pdu into out[0..cap) and sets *n_out to the octets written
 * (command_length, computed here; pdu->command_length is ignored).
 * body_omitted writes the header alone. TLVs are written in array order.
 * Refuses, with out[] holding nothing useful, what the decoder would
 * reject, so that whatever it writes decodes again:
 *   SG_ENOTSUP  unknown command_id;
 *   SG_ETOOLONG a C-Octet String field without a NUL inside its array,
 *               sm_length > 254, a list count > 254;
 *   SG_EPROTO   a time field neither empty nor 16 characters, a dest_flag
 *               other than 1 or 2, TLVs on a PDU that takes none,
 *               body_omitted on anything but a response with a non-zero
 *               command_status;
 *   SG_ERANGE   a standard TLV whose length its tag does not allow, or a
 *               NULL value with length > 4;
 *   SG_EILSEQ   a C-Octet String TLV that does not end in NUL;
 *   SG_EINVAL   a NULL argument or n_tlvs > SG_SMPP_TLV_MAX;
 *   SG_ENOSPC   cap too small (sg_smpp_pdu_size() tells how much). */
int sg_smpp_pdu_encode(const sg_smpp_pdu_t *pdu, uint8_t *out, size_t cap,
                       size_t *n_out);

/* ---- TLV access ------------------------------------------------------- */

/* The value octets of a TLV (local or borrowed). */
static inline const uint8_t *sg_smpp_tlv_value(const sg_smpp_tlv_t *t) {
  return t->value != NULL ? t->value : t->local;
}

/* The first TLV with this tag, or NULL. */
const sg_smpp_tlv_t *sg_smpp_tlv_find(const sg_smpp_pdu_t *pdu, uint16_t tag);

/* Reads an integer TLV (1, 2 or 4 octets, big-endian) into *out. Returns 0,
 * SG_ENOENT when absent, SG_EINVAL when its length is not 1, 2 or 4. */
int sg_smpp_tlv_get_int(const sg_smpp_pdu_t *pdu, uint16_t tag, uint32_t *out);

/* Points *value at an octet TLV's value and sets *len. Returns 0 or
 * SG_ENOENT. The pointer is borrowed (see the top of this file). */
int sg_smpp_tlv_get_bytes(const sg_smpp_pdu_t *pdu, uint16_t tag,
                          const uint8_t **value, size_t *len);

/* Points *s at a C-Octet String TLV's text (NUL-terminated; decoding checks
 * it) and sets *len to its length without the NUL. Returns 0, SG_ENOENT,
 * or SG_EILSEQ if the value is empty or does not end in NUL. */
int sg_smpp_tlv_get_cstr(const sg_smpp_pdu_t *pdu, uint16_t tag, const char **s,
                         size_t *len);

/* Sets an integer TLV, replacing the first one with this tag or appending.
 * For a standard tag the width comes from tlv.def; for an unknown tag pass
 * the width in `width` (1, 2 or 4; ignored for standard tags). Returns 0,
 * SG_ERANGE when v does not fit, SG_EINVAL for a standard tag that is not an
 * integer or a bad width, SG_ENOSPC when SG_SMPP_TLV_MAX TLVs are set. */
int sg_smpp_tlv_set_int(sg_smpp_pdu_t *pdu, uint16_t tag, uint32_t v,
                        unsigned width);

/* Sets an octet TLV to value[0..len), replacing the first one with this tag
 * or appending. Borrows `value`: it must outlive the encode. Standard tags
 * are checked against tlv.def (SG_ERANGE). Returns 0, SG_ERANGE, SG_EINVAL
 * (len > 65535, or NULL value with len > 0) or SG_ENOSPC. */
int sg_smpp_tlv_set_bytes(sg_smpp_pdu_t *pdu, uint16_t tag, const void *value,
                          size_t len);

/* Sets a C-Octet String TLV: the value is s including its NUL. Borrows s.
 * Same returns as sg_smpp_tlv_set_bytes(). */
int sg_smpp_tlv_set_cstr(sg_smpp_pdu_t *pdu, uint16_t tag, const char *s);

/* Appends a TLV as is, without replacing or checking the tag (vendor TLVs,
 * repeated tags). Borrows value. Returns 0, SG_EINVAL or SG_ENOSPC. */
int sg_smpp_tlv_append(sg_smpp_pdu_t *pdu, uint16_t tag, const void *value,
                       size_t len);

/* Removes every TLV with this tag, keeping the others in order. Returns the
 * number removed. */
int sg_smpp_tlv_remove(sg_smpp_pdu_t *pdu, uint16_t tag);

/* Spec name of a standard tag ("receipted_message_id") or NULL. */
const char *sg_smpp_tlv_name(uint16_t tag);

/* tlv.def type of a tag, SG_SMPP_TLV_T_UNKNOWN for a non-standard one; if
 * min/max are not NULL they get the allowed length range. */
sg_smpp_tlv_type_t sg_smpp_tlv_type(uint16_t tag, uint16_t *min, uint16_t *max);

/* ---- Commands and statuses -------------------------------------------- */

/* Spec name of a command_id ("submit_sm") or "unknown". Never NULL. */
const char *sg_smpp_command_name(uint32_t command_id);

/* Whether command_id is one of the SMPP 3.4 PDUs of pdu.def. */
bool sg_smpp_command_known(uint32_t command_id);

/* Whether command_id has the response bit set. */
static inline bool sg_smpp_is_response(uint32_t command_id) {
  return (command_id & SG_SMPP_RESP_BIT) != 0;
}

/* The response command_id for a request (submit_sm -> submit_sm_resp), or 0
 * for a response, outbind, alert_notification and unknown ids. */
uint32_t sg_smpp_response_id(uint32_t command_id);

/* Description of a command_status from section 5.1.3 ("Invalid Command
 * ID"); "Reserved" for an unassigned value below 0x400, "Vendor specific
 * error" for 0x400-0x4FF, "Reserved" above. Never NULL. */
const char *sg_smpp_status_text(uint32_t command_status);

/* Spec name of a command_status ("ESME_RINVCMDID") or NULL if unassigned. */
const char *sg_smpp_status_name(uint32_t command_status);

/* ---- Faults ----------------------------------------------------------- */

/* The command_status to answer for a fault when no field-specific status
 * is known (SG_SMPP_FAULT_CMD_ID -> ESME_RINVCMDID ...). */
uint32_t sg_smpp_fault_status(sg_smpp_fault_t fault);

/* The SG_E* code the decoder returns for a fault (0 for NONE). */
int sg_smpp_fault_error(sg_smpp_fault_t fault);

/* English description of a fault. Never NULL. */
const char *sg_smpp_fault_text(sg_smpp_fault_t fault);

/* Which PDU to answer a PDU that failed to decode with (section 4.3):
 *   - SG_SMPP_GENERIC_NACK for a bad header (SHORT_HEADER, CMD_LENGTH,
 *     LEN_MISMATCH) or an unknown command_id (CMD_ID);
 *   - the request's response id for a known request with a bad body
 *     (answer it with err->command_status);
 *   - 0 when nothing should be sent (a bad response, outbind,
 *     alert_notification, generic_nack; or err == NULL).
 * command_id is the decoded header's command_id (valid when
 * err->header_valid). */
uint32_t sg_smpp_reject_command_id(uint32_t command_id,
                                   const sg_smpp_decode_err_t *err);

#endif
