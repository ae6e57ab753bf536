/* tlv.c - the SMPP 3.4 optional parameters (section 5.3): lookups in the
 * tlv.def table and typed access to the TLVs of a decoded or built PDU.
 *
 * Setting a TLV borrows the caller's value (short values are copied), so
 * nothing here allocates; this module must never do I/O or logging.
 */
#include <string.h>

#include "smpp/pdu.h"
#include "smpp/wire.h"

const char *sg_smpp_tlv_name(uint16_t tag) {
  switch (tag) {
#define TLV_NAME(name, NAME, tag_, type, min, max)                             \
  case tag_:                                                                   \
    return #name;
    SG_SMPP_TLV_LIST(TLV_NAME)
#undef TLV_NAME
  }
  return NULL;
}

sg_smpp_tlv_type_t sg_smpp_tlv_type(uint16_t tag, uint16_t *min,
                                    uint16_t *max) {
  sg_smpp_tlv_type_t type = SG_SMPP_TLV_T_UNKNOWN;
  uint16_t lo = 0, hi = UINT16_MAX;
  switch (tag) {
#define TLV_TYPE(name, NAME, tag_, type_, min_, max_)                          \
  case tag_:                                                                   \
    type = SG_SMPP_TLV_T_##type_;                                              \
    lo = (min_);                                                               \
    hi = (max_);                                                               \
    break;
    SG_SMPP_TLV_LIST(TLV_TYPE)
#undef TLV_TYPE
  }
  if (min != NULL)
    *min = lo;
  if (max != NULL)
    *max = hi;
  return type;
}

static int tlv_index(const sg_smpp_pdu_t *pdu, uint16_t tag) {
  for (int i = 0; i < pdu->n_tlvs; i++)
    if (pdu->tlvs[i].tag == tag)
      return i;
  return -1;
}

const sg_smpp_tlv_t *sg_smpp_tlv_find(const sg_smpp_pdu_t *pdu, uint16_t tag) {
  int i = tlv_index(pdu, tag);
  return i < 0 ? NULL : &pdu->tlvs[i];
}

int sg_smpp_tlv_get_int(const sg_smpp_pdu_t *pdu, uint16_t tag, uint32_t *out) {
  const sg_smpp_tlv_t *t = sg_smpp_tlv_find(pdu, tag);
  if (t == NULL)
    return SG_ENOENT;
  const uint8_t *v = sg_smpp_tlv_value(t);
  switch (t->length) {
  case 1:
    *out = v[0];
    return 0;
  case 2:
    *out = sg__smpp_rd16(v);
    return 0;
  case 4:
    *out = sg__smpp_rd32(v);
    return 0;
  }
  return SG_EINVAL;
}

int sg_smpp_tlv_get_bytes(const sg_smpp_pdu_t *pdu, uint16_t tag,
                          const uint8_t **value, size_t *len) {
  const sg_smpp_tlv_t *t = sg_smpp_tlv_find(pdu, tag);
  if (t == NULL)
    return SG_ENOENT;
  *value = sg_smpp_tlv_value(t);
  *len = t->length;
  return 0;
}

int sg_smpp_tlv_get_cstr(const sg_smpp_pdu_t *pdu, uint16_t tag, const char **s,
                         size_t *len) {
  const sg_smpp_tlv_t *t = sg_smpp_tlv_find(pdu, tag);
  if (t == NULL)
    return SG_ENOENT;
  const uint8_t *v = sg_smpp_tlv_value(t);
  if (t->length == 0 || v[t->length - 1] != 0)
    return SG_EILSEQ;
  *s = (const char *)v;
  *len = strnlen(*s, t->length);
  return 0;
}

/* The slot for `tag`: the first one with that tag, else a new one at the
 * end; NULL when the table is full. */
static sg_smpp_tlv_t *tlv_slot(sg_smpp_pdu_t *pdu, uint16_t tag) {
  int i = tlv_index(pdu, tag);
  if (i >= 0)
    return &pdu->tlvs[i];
  if (pdu->n_tlvs >= SG_SMPP_TLV_MAX)
    return NULL;
  sg_smpp_tlv_t *t = &pdu->tlvs[pdu->n_tlvs++];
  t->tag = tag;
  return t;
}

static void tlv_store(sg_smpp_tlv_t *t, const void *value, size_t len) {
  t->length = (uint16_t)len;
  if (len <= sizeof t->local) {
    if (len > 0)
      memcpy(t->local, value, len);
    t->value = NULL;
  } else {
    t->value = value;
  }
}

int sg_smpp_tlv_set_int(sg_smpp_pdu_t *pdu, uint16_t tag, uint32_t v,
                        unsigned width) {
  switch (sg_smpp_tlv_type(tag, NULL, NULL)) {
  case SG_SMPP_TLV_T_INT8:
    width = 1;
    break;
  case SG_SMPP_TLV_T_INT16:
    width = 2;
    break;
  case SG_SMPP_TLV_T_INT32:
    width = 4;
    break;
  case SG_SMPP_TLV_T_UNKNOWN:
    if (width == 1 || width == 2 || width == 4)
      break;
    return SG_EINVAL;
  default:
    return SG_EINVAL;
  }
  if (width < 4 && v >> (8 * width) != 0)
    return SG_ERANGE;
  uint8_t b[4];
  sg__smpp_wr32(b, v);
  sg_smpp_tlv_t *t = tlv_slot(pdu, tag);
  if (t == NULL)
    return SG_ENOSPC;
  tlv_store(t, b + 4 - width, width);
  return 0;
}

int sg_smpp_tlv_set_bytes(sg_smpp_pdu_t *pdu, uint16_t tag, const void *value,
                          size_t len) {
  uint16_t min, max;
  if (len > UINT16_MAX || (value == NULL && len > 0))
    return SG_EINVAL;
  sg_smpp_tlv_type_t type = sg_smpp_tlv_type(tag, &min, &max);
  if (type != SG_SMPP_TLV_T_UNKNOWN && (len < min || len > max))
    return SG_ERANGE;
  if (type == SG_SMPP_TLV_T_COCTET && ((const uint8_t *)value)[len - 1] != 0)
    return SG_EILSEQ;
  sg_smpp_tlv_t *t = tlv_slot(pdu, tag);
  if (t == NULL)
    return SG_ENOSPC;
  tlv_store(t, value, len);
  return 0;
}

int sg_smpp_tlv_set_cstr(sg_smpp_pdu_t *pdu, uint16_t tag, const char *s) {
  if (s == NULL)
    return SG_EINVAL;
  return sg_smpp_tlv_set_bytes(pdu, tag, s, strlen(s) + 1);
}

int sg_smpp_tlv_append(sg_smpp_pdu_t *pdu, uint16_t tag, const void *value,
                       size_t len) {
  if (len > UINT16_MAX || (value == NULL && len > 0))
    return SG_EINVAL;
  if (pdu->n_tlvs >= SG_SMPP_TLV_MAX)
    return SG_ENOSPC;
  sg_smpp_tlv_t *t = &pdu->tlvs[pdu->n_tlvs++];
  t->tag = tag;
  tlv_store(t, value, len);
  return 0;
}

int sg_smpp_tlv_remove(sg_smpp_pdu_t *pdu, uint16_t tag) {
  uint16_t kept = 0;
  int removed = 0;
  for (uint16_t i = 0; i < pdu->n_tlvs; i++) {
    if (pdu->tlvs[i].tag == tag)
      removed++;
    else
      pdu->tlvs[kept++] = pdu->tlvs[i];
  }
  pdu->n_tlvs = kept;
  return removed;
}
