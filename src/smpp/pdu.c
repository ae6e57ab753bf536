/* pdu.c - the SMPP 3.4 PDU codec: one decoder and one encoder that walk the
 * field descriptors generated from pdu.def, plus the command_id helpers.
 *
 * The decoder is strict and bounded: it never reads outside the buffer it is
 * given, checks every length against the spec before copying, and reports
 * each kind of violation as its own fault with the command_status to answer.
 * The encoder refuses anything the decoder would reject. This module must
 * never do I/O, log, or allocate: all memory is the caller's.
 */
#include "smpp/pdu.h"

#include <stddef.h>
#include <string.h>

#include "smpp/wire.h"

/* ---- Descriptors generated from pdu.def ------------------------------- */

enum field_kind {
  K_INT8,
  K_INT16,
  K_INT32,
  K_COCTET,
  K_TIME,
  K_OCTETS,
  K_DESTS,
  K_UNSUCCESS
};

typedef struct field {
  const char *name;
  uint16_t offset; /* within the body (or list element) struct */
  uint8_t kind;    /* enum field_kind */
  uint8_t max;     /* spec maximum: octets incl. NUL, or list entries */
  uint32_t status; /* ESME_R* for an invalid value */
} field_t;

#define FIELD(T, kind, name, max, status)                                      \
  {#name, (uint16_t)offsetof(T, name), K_##kind, max, SG_SMPP_ESME_##status},

#define BODY_FIELDS(body)                                                      \
  static const field_t f_##body[] = {                                          \
      SG_SMPP_BODY_##body(FIELD, sg_smpp_body_##body##_t)};
SG_SMPP_BODY_LIST(BODY_FIELDS)
#undef BODY_FIELDS

static const field_t f_sme_address[] = {
    SG_SMPP_ELEM_sme_address(FIELD, sg_smpp_dest_address_t)};
static const field_t f_dl_name[] = {
    SG_SMPP_ELEM_dl_name(FIELD, sg_smpp_dest_address_t)};
static const field_t f_unsuccess_sme[] = {
    SG_SMPP_ELEM_unsuccess_sme(FIELD, sg_smpp_unsuccess_sme_t)};
#undef FIELD

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

enum body_count {
#define BODY_COUNT(body) N_##body = NFIELDS(f_##body),
  SG_SMPP_BODY_LIST(BODY_COUNT)
#undef BODY_COUNT
      N_none = 0
};
#define f_none ((const field_t *)NULL)

typedef struct pdu_desc {
  uint32_t command_id;
  const char *name;
  const field_t *fields;
  uint16_t n_fields;
  uint16_t body_size;
  uint8_t flags; /* SG__SMPP_TLVS, SG__SMPP_NORESP */
} pdu_desc_t;

enum pdu_index {
#define PDU_INDEX(name, NAME, id, body, flags) I_##NAME,
  SG_SMPP_PDU_LIST(PDU_INDEX)
#undef PDU_INDEX
};

static const pdu_desc_t pdus[] = {
#define PDU_DESC(name, NAME, id, body, flags)                                  \
  {id, #name, f_##body, N_##body, sizeof(sg_smpp_body_##body##_t), flags},
    SG_SMPP_PDU_LIST(PDU_DESC)
#undef PDU_DESC
};

static const pdu_desc_t *pdu_desc(uint32_t command_id) {
  switch (command_id) {
#define PDU_CASE(name, NAME, id, body, flags)                                  \
  case id:                                                                     \
    return &pdus[I_##NAME];
    SG_SMPP_PDU_LIST(PDU_CASE)
#undef PDU_CASE
  }
  return NULL;
}

/* ---- Faults ----------------------------------------------------------- */

uint32_t sg_smpp_fault_status(sg_smpp_fault_t fault) {
  switch (fault) {
#define FAULT_STATUS(NAME, err, status, text)                                  \
  case SG_SMPP_FAULT_##NAME:                                                   \
    return SG_SMPP_ESME_##status;
    SG_SMPP_FAULT_LIST(FAULT_STATUS)
#undef FAULT_STATUS
  case SG_SMPP_FAULT_COUNT_:
    break;
  }
  return SG_SMPP_ESME_RUNKNOWNERR;
}

int sg_smpp_fault_error(sg_smpp_fault_t fault) {
  switch (fault) {
#define FAULT_ERROR(NAME, err, status, text)                                   \
  case SG_SMPP_FAULT_##NAME:                                                   \
    return err;
    SG_SMPP_FAULT_LIST(FAULT_ERROR)
#undef FAULT_ERROR
  case SG_SMPP_FAULT_COUNT_:
    break;
  }
  return SG_EINVAL;
}

const char *sg_smpp_fault_text(sg_smpp_fault_t fault) {
  switch (fault) {
#define FAULT_TEXT(NAME, err, status, text)                                    \
  case SG_SMPP_FAULT_##NAME:                                                   \
    return text;
    SG_SMPP_FAULT_LIST(FAULT_TEXT)
#undef FAULT_TEXT
  case SG_SMPP_FAULT_COUNT_:
    break;
  }
  return "unknown fault";
}

uint32_t sg_smpp_reject_command_id(uint32_t command_id,
                                   const sg_smpp_decode_err_t *err) {
  if (err == NULL)
    return 0;
  switch (err->fault) {
  case SG_SMPP_FAULT_NONE:
    return 0;
  case SG_SMPP_FAULT_SHORT_HEADER:
  case SG_SMPP_FAULT_CMD_LENGTH:
  case SG_SMPP_FAULT_LEN_MISMATCH:
  case SG_SMPP_FAULT_CMD_ID:
    return SG_SMPP_GENERIC_NACK;
  default:
    return sg_smpp_response_id(command_id);
  }
}

/* ---- Commands --------------------------------------------------------- */

const char *sg_smpp_command_name(uint32_t command_id) {
  const pdu_desc_t *d = pdu_desc(command_id);
  return d != NULL ? d->name : "unknown";
}

bool sg_smpp_command_known(uint32_t command_id) {
  return pdu_desc(command_id) != NULL;
}

uint32_t sg_smpp_response_id(uint32_t command_id) {
  const pdu_desc_t *d = pdu_desc(command_id);
  if (d == NULL || sg_smpp_is_response(command_id) ||
      (d->flags & SG__SMPP_NORESP) != 0)
    return 0;
  return command_id | SG_SMPP_RESP_BIT;
}

void sg_smpp_pdu_init(sg_smpp_pdu_t *pdu, uint32_t command_id,
                      uint32_t sequence_number) {
  const pdu_desc_t *d = pdu_desc(command_id);
  pdu->command_length = 0;
  pdu->command_id = command_id;
  pdu->command_status = 0;
  pdu->sequence_number = sequence_number;
  pdu->body_omitted = false;
  pdu->n_tlvs = 0;
  if (d != NULL)
    memset(&pdu->body, 0, d->body_size);
}

/* ---- Decoding --------------------------------------------------------- */

typedef struct cursor {
  const uint8_t *buf;
  size_t len; /* == command_length */
  size_t pos;
  uint32_t last;  /* the last integer read: the next list's count */
  long sm_length; /* short_message length, -1 if the PDU has none */
  sg_smpp_decode_err_t *err;
} cursor_t;

/* Records a fault and returns its SG_E* code. A field-specific status from
 * pdu.def wins for faults about the value of that field. */
static int fail(cursor_t *c, sg_smpp_fault_t fault, const field_t *f,
                uint16_t tag, const char *tag_name) {
  sg_smpp_decode_err_t *e = c->err;
  e->fault = fault;
  e->offset = c->pos;
  e->tlv_tag = tag;
  if (tag_name == NULL && tag != 0)
    tag_name = sg_smpp_tlv_name(tag);
  e->field = f != NULL ? f->name : tag_name;
  e->command_status = sg_smpp_fault_status(fault);
  if (f != NULL && f->status != SG_SMPP_ESME_ROK &&
      (fault == SG_SMPP_FAULT_CSTRING_UNTERMINATED ||
       fault == SG_SMPP_FAULT_CSTRING_TOO_LONG ||
       fault == SG_SMPP_FAULT_BAD_TIME || fault == SG_SMPP_FAULT_SM_LENGTH))
    e->command_status = f->status;
  return sg_smpp_fault_error(fault);
}

static int get_fields(cursor_t *c, const field_t *fields, size_t n,
                      uint8_t *base);

/* submit_multi dest_address list (section 4.5.1.1); count already read. */
static int get_dests(cursor_t *c, const field_t *f, uint8_t *base) {
  uint32_t count = c->last;
  if (count > f->max)
    return fail(c, SG_SMPP_FAULT_LIST_COUNT, f, 0, NULL);
  sg_smpp_dest_address_t *d = (sg_smpp_dest_address_t *)(base + f->offset);
  for (uint32_t i = 0; i < count; i++) {
    if (c->pos >= c->len)
      return fail(c, SG_SMPP_FAULT_TRUNCATED, f, 0, NULL);
    uint8_t flag = c->buf[c->pos];
    int rc;
    d[i].dest_flag = flag;
    if (flag == SG_SMPP_DEST_FLAG_SME) {
      c->pos++;
      rc = get_fields(c, f_sme_address, NFIELDS(f_sme_address),
                      (uint8_t *)&d[i]);
    } else if (flag == SG_SMPP_DEST_FLAG_DL) {
      c->pos++;
      rc = get_fields(c, f_dl_name, NFIELDS(f_dl_name), (uint8_t *)&d[i]);
    } else {
      rc = fail(c, SG_SMPP_FAULT_DEST_FLAG, NULL, 0, "dest_flag");
    }
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* submit_multi_resp unsuccess_sme list (section 4.5.2.1). */
static int get_unsuccess(cursor_t *c, const field_t *f, uint8_t *base) {
  uint32_t count = c->last;
  if (count > f->max)
    return fail(c, SG_SMPP_FAULT_LIST_COUNT, f, 0, NULL);
  sg_smpp_unsuccess_sme_t *u = (sg_smpp_unsuccess_sme_t *)(base + f->offset);
  for (uint32_t i = 0; i < count; i++) {
    int rc = get_fields(c, f_unsuccess_sme, NFIELDS(f_unsuccess_sme),
                        (uint8_t *)&u[i]);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Copies a C-Octet String (section 3.1) of at most `max` octets including
 * the NUL into dst (which has room for max); returns its length without the
 * NUL, or -1 with *fault set. */
static inline long get_cstring(uint8_t *dst, const uint8_t *s, size_t avail,
                               size_t max, sg_smpp_fault_t *fault) {
  size_t lim = avail < max ? avail : max;
  size_t n = sg__smpp_copy_cstr(dst, s, lim);
  if (n < lim)
    return (long)n;
  *fault = avail == 0   ? SG_SMPP_FAULT_TRUNCATED
           : lim == max ? SG_SMPP_FAULT_CSTRING_TOO_LONG
                        : SG_SMPP_FAULT_CSTRING_UNTERMINATED;
  return -1;
}

/* Walks a field list. The cursor lives in locals inside the loop: stores
 * through `base` may alias anything, and reloading c->pos after each one
 * would double the cost of a submit_sm. */
static int get_fields(cursor_t *c, const field_t *fields, size_t nf,
                      uint8_t *base) {
  const uint8_t *buf = c->buf;
  size_t pos = c->pos, len = c->len;
  uint32_t last = c->last;
  sg_smpp_fault_t fault = SG_SMPP_FAULT_TRUNCATED;
  const field_t *f = fields;
  for (size_t i = 0; i < nf; i++) {
    f = &fields[i];
    uint8_t *dst = base + f->offset;
    size_t avail = len - pos;
    switch (f->kind) {
    case K_INT8:
      if (avail < 1)
        goto fault;
      last = buf[pos++];
      *dst = (uint8_t)last;
      break;
    case K_INT16: {
      if (avail < 2)
        goto fault;
      uint16_t v = sg__smpp_rd16(buf + pos);
      memcpy(dst, &v, sizeof v);
      last = v;
      pos += 2;
      break;
    }
    case K_INT32: {
      if (avail < 4)
        goto fault;
      uint32_t v = sg__smpp_rd32(buf + pos);
      memcpy(dst, &v, sizeof v);
      last = v;
      pos += 4;
      break;
    }
    case K_COCTET:
    case K_TIME: {
      long n = get_cstring(dst, buf + pos, avail, f->max, &fault);
      if (n < 0)
        goto fault;
      /* section 7.1.1: a time is empty or "YYMMDDhhmmsstnnp" */
      if (f->kind == K_TIME && n != 0 && n != 16) {
        fault = SG_SMPP_FAULT_BAD_TIME;
        goto fault;
      }
      pos += (size_t)n + 1;
      break;
    }
    case K_OCTETS: /* length: the integer just before (sm_length) */
      if (last > f->max || last > avail) {
        fault = SG_SMPP_FAULT_SM_LENGTH;
        goto fault;
      }
      sg__smpp_copy(dst, buf + pos, last);
      pos += last;
      c->sm_length = (long)last;
      break;
    case K_DESTS:
    case K_UNSUCCESS: {
      c->pos = pos;
      c->last = last;
      int rc = f->kind == K_DESTS ? get_dests(c, f, base)
                                  : get_unsuccess(c, f, base);
      if (rc != 0)
        return rc;
      pos = c->pos;
      last = c->last;
      break;
    }
    }
  }
  c->pos = pos;
  c->last = last;
  return 0;
fault:
  c->pos = pos;
  return fail(c, fault, f, 0, NULL);
}

/* Optional parameters (section 3.2.2 / 5.3.1): tag, length, value. */
static int get_tlvs(cursor_t *c, sg_smpp_pdu_t *out) {
  uint16_t n = 0;
  while (c->pos < c->len) {
    size_t avail = c->len - c->pos;
    if (avail < 4)
      return fail(c, SG_SMPP_FAULT_TLV_HEADER, NULL, 0, NULL);
    const uint8_t *p = c->buf + c->pos;
    uint16_t tag = sg__smpp_rd16(p), l = sg__smpp_rd16(p + 2);
    uint16_t min, max;
    sg_smpp_tlv_type_t type = sg_smpp_tlv_type(tag, &min, &max);
    if (l > avail - 4)
      return fail(c, SG_SMPP_FAULT_TLV_PAST_END, NULL, tag, NULL);
    if (type != SG_SMPP_TLV_T_UNKNOWN && (l < min || l > max))
      return fail(c, SG_SMPP_FAULT_TLV_LENGTH, NULL, tag, NULL);
    if (type == SG_SMPP_TLV_T_COCTET && p[4 + l - 1] != 0)
      return fail(c, SG_SMPP_FAULT_TLV_VALUE, NULL, tag, NULL);
    if (n == SG_SMPP_TLV_MAX)
      return fail(c, SG_SMPP_FAULT_TLV_TOO_MANY, NULL, tag, NULL);
    sg_smpp_tlv_t *t = &out->tlvs[n++];
    t->tag = tag;
    t->length = l;
    if (l <= sizeof t->local) {
      t->value = NULL;
      memcpy(t->local, p + 4, l);
    } else {
      t->value = p + 4;
    }
    c->pos += 4u + l;
    out->n_tlvs = n;
  }
  return 0;
}

/* Reads the header; returns 0 or a fault code. */
static int get_header(cursor_t *c, sg_smpp_pdu_t *out, size_t max_len) {
  const uint8_t *b = c->buf;
  out->command_length = sg__smpp_rd32(b);
  out->command_id = sg__smpp_rd32(b + 4);
  out->command_status = sg__smpp_rd32(b + 8);
  out->sequence_number = sg__smpp_rd32(b + 12);
  out->body_omitted = false;
  out->n_tlvs = 0;
  c->err->header_valid = true;
  if (out->command_length < SG_SMPP_HEADER_LEN || out->command_length > max_len)
    return fail(c, SG_SMPP_FAULT_CMD_LENGTH, NULL, 0, NULL);
  if (out->command_length != c->len)
    return fail(c, SG_SMPP_FAULT_LEN_MISMATCH, NULL, 0, NULL);
  c->pos = 4;
  if (pdu_desc(out->command_id) == NULL)
    return fail(c, SG_SMPP_FAULT_CMD_ID, NULL, 0, NULL);
  c->pos = SG_SMPP_HEADER_LEN;
  return 0;
}

static void clear_err(sg_smpp_decode_err_t *e) {
  e->fault = SG_SMPP_FAULT_NONE;
  e->command_status = SG_SMPP_ESME_ROK;
  e->field = NULL;
  e->tlv_tag = 0;
  e->offset = 0;
  e->header_valid = false;
}

int sg_smpp_pdu_decode(const uint8_t *buf, size_t len, sg_smpp_pdu_t *out,
                       const sg_smpp_decode_opts_t *opts,
                       sg_smpp_decode_err_t *err) {
  sg_smpp_decode_err_t scratch;
  cursor_t c = {buf, len, 0, 0, -1, err != NULL ? err : &scratch};
  clear_err(c.err);
  if ((buf == NULL && len > 0) || out == NULL)
    return SG_EINVAL;
  if (len < SG_SMPP_HEADER_LEN)
    return fail(&c, SG_SMPP_FAULT_SHORT_HEADER, NULL, 0, NULL);
  size_t max_len = opts != NULL && opts->max_len != 0 ? opts->max_len
                                                      : SG_SMPP_MAX_PDU_DEFAULT;
  int rc = get_header(&c, out, max_len);
  if (rc != 0)
    return rc;
  const pdu_desc_t *d = pdu_desc(out->command_id);
  uint8_t *base = (uint8_t *)&out->body;
  if (len == SG_SMPP_HEADER_LEN && d->n_fields > 0 &&
      sg_smpp_is_response(out->command_id) && out->command_status != 0) {
    memset(base, 0, d->body_size); /* sections 4.1.2, 4.4.2 ... */
    out->body_omitted = true;
    return 0;
  }
  if ((rc = get_fields(&c, d->fields, d->n_fields, base)) != 0)
    return rc;
  if (c.pos < c.len) {
    if ((d->flags & SG__SMPP_TLVS) == 0)
      return fail(&c, SG_SMPP_FAULT_TRAILING, NULL, 0, NULL);
    if ((rc = get_tlvs(&c, out)) != 0)
      return rc;
  }
  /* Section 5.3.2.32: with message_payload, sm_length should be zero. */
  const sg_smpp_tlv_t *t;
  if (c.sm_length > 0 &&
      (opts == NULL ||
       (opts->flags & SG_SMPP_DECODE_ALLOW_BOTH_PAYLOADS) == 0) &&
      (t = sg_smpp_tlv_find(out, SG_SMPP_TLV_MESSAGE_PAYLOAD)) != NULL) {
    c.pos = t->value != NULL ? (size_t)(t->value - buf) - 4 : c.len;
    return fail(&c, SG_SMPP_FAULT_BOTH_PAYLOADS, NULL,
                SG_SMPP_TLV_MESSAGE_PAYLOAD, NULL);
  }
  return 0;
}

/* ---- Encoding --------------------------------------------------------- */

/* Output cursor; with out == NULL it only counts. */
typedef struct writer {
  uint8_t *out;
  size_t cap;
  size_t pos;
  uint32_t last; /* the last integer written: the next list's count */
} writer_t;

static int put(writer_t *w, const void *src, size_t n) {
  if (w->out != NULL) {
    if (n > w->cap - w->pos)
      return SG_ENOSPC;
    memcpy(w->out + w->pos, src, n);
  }
  w->pos += n;
  return 0;
}

static int put_fields(writer_t *w, const field_t *fields, size_t n,
                      const uint8_t *base);

static int put_dests(writer_t *w, const field_t *f, const uint8_t *base) {
  if (w->last > f->max)
    return SG_ETOOLONG;
  uint32_t count = w->last;
  const sg_smpp_dest_address_t *d =
      (const sg_smpp_dest_address_t *)(base + f->offset);
  for (uint32_t i = 0; i < count; i++) {
    uint8_t flag = d[i].dest_flag;
    int rc = put(w, &flag, 1);
    if (rc == 0 && flag == SG_SMPP_DEST_FLAG_SME)
      rc = put_fields(w, f_sme_address, NFIELDS(f_sme_address),
                      (const uint8_t *)&d[i]);
    else if (rc == 0 && flag == SG_SMPP_DEST_FLAG_DL)
      rc = put_fields(w, f_dl_name, NFIELDS(f_dl_name), (const uint8_t *)&d[i]);
    else if (rc == 0)
      rc = SG_EPROTO;
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int put_unsuccess(writer_t *w, const field_t *f, const uint8_t *base) {
  if (w->last > f->max)
    return SG_ETOOLONG;
  uint32_t count = w->last;
  const sg_smpp_unsuccess_sme_t *u =
      (const sg_smpp_unsuccess_sme_t *)(base + f->offset);
  for (uint32_t i = 0; i < count; i++) {
    int rc = put_fields(w, f_unsuccess_sme, NFIELDS(f_unsuccess_sme),
                        (const uint8_t *)&u[i]);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Octets field `f` takes in the output, after checking it as the decoder
 * would; negative SG_E* if it cannot be encoded. `last` is the integer
 * written before it. Lists are not handled here. */
static long field_size(const field_t *f, const uint8_t *src, uint32_t last) {
  size_t n = 0;
  switch (f->kind) {
  case K_INT8:
    return 1;
  case K_INT16:
    return 2;
  case K_INT32:
    return 4;
  case K_COCTET:
  case K_TIME:
    while (n < f->max && src[n] != 0)
      n++;
    if (n == f->max)
      return SG_ETOOLONG;
    if (f->kind == K_TIME && n != 0 && n != 16)
      return SG_EPROTO;
    return (long)n + 1;
  case K_OCTETS:
    return last > f->max ? SG_ETOOLONG : (long)last;
  }
  return SG_EINVAL;
}

/* Counts the octets of a field list (sg_smpp_pdu_size()). */
static int count_fields(writer_t *w, const field_t *fields, size_t nf,
                        const uint8_t *base) {
  for (size_t i = 0; i < nf; i++) {
    const field_t *f = &fields[i];
    const uint8_t *src = base + f->offset;
    int rc = 0;
    if (f->kind == K_DESTS)
      rc = put_dests(w, f, base);
    else if (f->kind == K_UNSUCCESS)
      rc = put_unsuccess(w, f, base);
    if (rc != 0)
      return rc;
    if (f->kind == K_DESTS || f->kind == K_UNSUCCESS)
      continue;
    long n = field_size(f, src, w->last);
    if (n < 0)
      return (int)n;
    if (f->kind == K_INT8)
      w->last = src[0];
    w->pos += (size_t)n;
  }
  return 0;
}

/* Writes a field list with the output cursor in locals (see get_fields). */
static int put_fields(writer_t *w, const field_t *fields, size_t nf,
                      const uint8_t *base) {
  if (w->out == NULL)
    return count_fields(w, fields, nf, base);
  uint8_t *out = w->out;
  size_t pos = w->pos, cap = w->cap;
  uint32_t last = w->last;
  for (size_t i = 0; i < nf; i++) {
    const field_t *f = &fields[i];
    const uint8_t *src = base + f->offset;
    size_t room = cap - pos, n = 0;
    uint16_t v16;
    uint32_t v32;
    switch (f->kind) {
    case K_INT8:
      if (room < 1)
        return SG_ENOSPC;
      last = out[pos++] = src[0];
      break;
    case K_INT16:
      if (room < 2)
        return SG_ENOSPC;
      memcpy(&v16, src, sizeof v16);
      sg__smpp_wr16(out + pos, v16);
      last = v16;
      pos += 2;
      break;
    case K_INT32:
      if (room < 4)
        return SG_ENOSPC;
      memcpy(&v32, src, sizeof v32);
      sg__smpp_wr32(out + pos, v32);
      last = v32;
      pos += 4;
      break;
    case K_COCTET:
    case K_TIME:
      while (n < f->max && src[n] != 0)
        n++;
      if (n == f->max)
        return SG_ETOOLONG;
      if (f->kind == K_TIME && n != 0 && n != 16)
        return SG_EPROTO;
      if (n + 1 > room)
        return SG_ENOSPC;
      sg__smpp_copy(out + pos, src, n + 1);
      pos += n + 1;
      break;
    case K_OCTETS:
      if (last > f->max)
        return SG_ETOOLONG;
      if (last > room)
        return SG_ENOSPC;
      sg__smpp_copy(out + pos, src, last);
      pos += last;
      break;
    default: { /* K_DESTS, K_UNSUCCESS */
      w->pos = pos;
      w->last = last;
      int rc = f->kind == K_DESTS ? put_dests(w, f, base)
                                  : put_unsuccess(w, f, base);
      if (rc != 0)
        return rc;
      pos = w->pos;
      break;
    }
    }
  }
  w->pos = pos;
  w->last = last;
  return 0;
}

static int put_tlv(writer_t *w, const sg_smpp_tlv_t *t) {
  if (t->value == NULL && t->length > sizeof t->local)
    return SG_ERANGE;
  const uint8_t *v = sg_smpp_tlv_value(t);
  uint16_t min, max;
  sg_smpp_tlv_type_t type = sg_smpp_tlv_type(t->tag, &min, &max);
  if (type != SG_SMPP_TLV_T_UNKNOWN && (t->length < min || t->length > max))
    return SG_ERANGE;
  if (type == SG_SMPP_TLV_T_COCTET && v[t->length - 1] != 0)
    return SG_EILSEQ;
  uint8_t h[4];
  sg__smpp_wr16(h, t->tag);
  sg__smpp_wr16(h + 2, t->length);
  int rc = put(w, h, sizeof h);
  return rc != 0 ? rc : put(w, v, t->length);
}

static int put_pdu(writer_t *w, const sg_smpp_pdu_t *pdu) {
  const pdu_desc_t *d = pdu_desc(pdu->command_id);
  if (d == NULL)
    return SG_ENOTSUP;
  if (pdu->n_tlvs > SG_SMPP_TLV_MAX)
    return SG_EINVAL;
  if (pdu->n_tlvs > 0 && ((d->flags & SG__SMPP_TLVS) == 0 || pdu->body_omitted))
    return SG_EPROTO;
  uint8_t h[SG_SMPP_HEADER_LEN];
  sg__smpp_wr32(h, 0); /* command_length, patched by the caller */
  sg__smpp_wr32(h + 4, pdu->command_id);
  sg__smpp_wr32(h + 8, pdu->command_status);
  sg__smpp_wr32(h + 12, pdu->sequence_number);
  int rc = put(w, h, sizeof h);
  if (rc != 0)
    return rc;
  if (pdu->body_omitted)
    return sg_smpp_is_response(pdu->command_id) && pdu->command_status != 0
               ? 0
               : SG_EPROTO;
  rc = put_fields(w, d->fields, d->n_fields, (const uint8_t *)&pdu->body);
  for (uint16_t i = 0; rc == 0 && i < pdu->n_tlvs; i++)
    rc = put_tlv(w, &pdu->tlvs[i]);
  return rc;
}

long sg_smpp_pdu_size(const sg_smpp_pdu_t *pdu) {
  if (pdu == NULL)
    return SG_EINVAL;
  writer_t w = {NULL, 0, 0, 0};
  int rc = put_pdu(&w, pdu);
  return rc != 0 ? rc : (long)w.pos;
}

int sg_smpp_pdu_encode(const sg_smpp_pdu_t *pdu, uint8_t *out, size_t cap,
                       size_t *n_out) {
  if (pdu == NULL || out == NULL || n_out == NULL)
    return SG_EINVAL;
  writer_t w = {out, cap, 0, 0};
  int rc = put_pdu(&w, pdu);
  if (rc != 0)
    return rc;
  if (w.pos > UINT32_MAX)
    return SG_ERANGE;
  sg__smpp_wr32(out, (uint32_t)w.pos);
  *n_out = w.pos;
  return 0;
}
