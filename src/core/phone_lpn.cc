/* phone_lpn.cc - the C interface to libphonenumber (C++).
 *
 * It hands libphonenumber's compiled-in metadata to the C matcher
 * (core/phone.c) as plain C structures, and wraps the few PhoneNumberUtil
 * calls smsgate needs from the library itself: formatting, and the
 * reference answer the differential test compares the fast path with.
 * It must stay thin: no validation logic of its own, no state beyond
 * libphonenumber's singleton, no exception crossing into C, and no use on
 * the hot path (one Parse costs ~20 us).
 */
#include "core/phone_lpn.h"

#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstring>
#include <new>
#include <string>

/* These C headers carry no extern "C" guards of their own. */
extern "C" {
#include "core/alloc.h"
#include "core/error.h"
}

/* Exported by libphonenumber (metadata.h, not installed). */
namespace i18n {
namespace phonenumbers {
int metadata_size();
const void *metadata_get();
} // namespace phonenumbers
} // namespace i18n

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneMetadataCollection;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberDesc;
using i18n::phonenumbers::PhoneNumberUtil;

static_assert(SG_PHONE_FIXED_LINE == (int)PhoneNumberUtil::FIXED_LINE &&
                  SG_PHONE_MOBILE == (int)PhoneNumberUtil::MOBILE &&
                  SG_PHONE_FIXED_LINE_OR_MOBILE ==
                      (int)PhoneNumberUtil::FIXED_LINE_OR_MOBILE &&
                  SG_PHONE_TOLL_FREE == (int)PhoneNumberUtil::TOLL_FREE &&
                  SG_PHONE_PREMIUM_RATE == (int)PhoneNumberUtil::PREMIUM_RATE &&
                  SG_PHONE_SHARED_COST == (int)PhoneNumberUtil::SHARED_COST &&
                  SG_PHONE_VOIP == (int)PhoneNumberUtil::VOIP &&
                  SG_PHONE_PERSONAL_NUMBER ==
                      (int)PhoneNumberUtil::PERSONAL_NUMBER &&
                  SG_PHONE_PAGER == (int)PhoneNumberUtil::PAGER &&
                  SG_PHONE_UAN == (int)PhoneNumberUtil::UAN &&
                  SG_PHONE_VOICEMAIL == (int)PhoneNumberUtil::VOICEMAIL &&
                  SG_PHONE_UNKNOWN == (int)PhoneNumberUtil::UNKNOWN,
              "sg_phone_type_t follows PhoneNumberUtil::PhoneNumberType");

namespace {

/* The descriptions of one PhoneMetadata, indexed by sg_phone_type_t. */
void descs_of(const PhoneMetadata &m, const PhoneNumberDesc *d[]) {
  for (int i = 0; i < SG_PHONE_TYPE_COUNT; i++)
    d[i] = nullptr;
  d[SG_PHONE_UNKNOWN] = &m.general_desc();
  d[SG_PHONE_FIXED_LINE] = &m.fixed_line();
  d[SG_PHONE_MOBILE] = &m.mobile();
  d[SG_PHONE_TOLL_FREE] = &m.toll_free();
  d[SG_PHONE_PREMIUM_RATE] = &m.premium_rate();
  d[SG_PHONE_SHARED_COST] = &m.shared_cost();
  d[SG_PHONE_VOIP] = &m.voip();
  d[SG_PHONE_PERSONAL_NUMBER] = &m.personal_number();
  d[SG_PHONE_PAGER] = &m.pager();
  d[SG_PHONE_UAN] = &m.uan();
  d[SG_PHONE_VOICEMAIL] = &m.voicemail();
}

/* Bytes needed for the strings of one entry (each with its NUL). */
size_t strings_size(const PhoneMetadata &m) {
  size_t n =
      m.international_prefix().size() + m.national_prefix_for_parsing().size() +
      m.national_prefix_transform_rule().size() + m.leading_digits().size() + 4;
  const PhoneNumberDesc *d[SG_PHONE_TYPE_COUNT];
  descs_of(m, d);
  for (int i = 0; i < SG_PHONE_TYPE_COUNT; i++)
    if (d[i])
      n += d[i]->national_number_pattern().size() +
           d[i]->example_number().size() + 2;
  return n;
}

/* Copies `s` into the string arena at *pos; returns the copy. */
const char *put(const std::string &s, char *arena, size_t *pos) {
  char *p = arena + *pos;
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  *pos += s.size() + 1;
  return p;
}

/* A repeated possible_length field as a bit set; false if a value is
 * outside -1..31 ([-1] alone means "none" and gives an empty set). */
template <typename Repeated>
bool length_bits(const Repeated &r, uint32_t *bits) {
  *bits = 0;
  for (int len : r) {
    if (len == -1)
      continue;
    if (len < 0 || len > 31)
      return false;
    *bits |= UINT32_C(1) << len;
  }
  return true;
}

bool copy_desc(const PhoneNumberDesc &src, char *arena, size_t *pos,
               sg_lpn_desc_t *dst) {
  const char *pat = put(src.national_number_pattern(), arena, pos);
  const char *ex = put(src.example_number(), arena, pos);
  dst->pattern = *pat ? pat : nullptr;
  dst->example = *ex ? ex : nullptr;
  dst->has_lengths = src.possible_length_size() > 0;
  return length_bits(src.possible_length(), &dst->lengths) &&
         length_bits(src.possible_length_local_only(), &dst->local_lengths);
}

bool copy_region(const PhoneMetadata &m, char *arena, size_t *pos,
                 sg_lpn_region_t *r) {
  if (m.id().size() >= sizeof r->id)
    return false;
  std::memcpy(r->id, m.id().c_str(), m.id().size() + 1);
  r->country_code = m.country_code();
  r->main_country_for_code = m.main_country_for_code();
  r->same_mobile_and_fixed_line_pattern =
      m.same_mobile_and_fixed_line_pattern();
  const char *s = put(m.international_prefix(), arena, pos);
  r->international_prefix = m.has_international_prefix() ? s : nullptr;
  s = put(m.national_prefix_for_parsing(), arena, pos);
  r->national_prefix_for_parsing = *s ? s : nullptr;
  s = put(m.national_prefix_transform_rule(), arena, pos);
  r->national_prefix_transform_rule = *s ? s : nullptr;
  s = put(m.leading_digits(), arena, pos);
  r->leading_digits = m.has_leading_digits() ? s : nullptr;
  const PhoneNumberDesc *d[SG_PHONE_TYPE_COUNT];
  descs_of(m, d);
  for (int i = 0; i < SG_PHONE_TYPE_COUNT; i++)
    if (d[i] && !copy_desc(*d[i], arena, pos, &r->desc[i]))
      return false;
  return true;
}

int load(sg_lpn_metadata_t **out) {
  PhoneMetadataCollection coll;
  if (!coll.ParseFromArray(i18n::phonenumbers::metadata_get(),
                           i18n::phonenumbers::metadata_size()))
    return SG_EPROTO;
  size_t n = (size_t)coll.metadata_size(), bytes = 0;
  for (const PhoneMetadata &m : coll.metadata())
    bytes += strings_size(m);
  sg_lpn_metadata_t *md =
      static_cast<sg_lpn_metadata_t *>(sg_calloc(1, sizeof *md));
  if (!md)
    return SG_ENOMEM;
  md->regions =
      static_cast<sg_lpn_region_t *>(sg_calloc(n ? n : 1, sizeof *md->regions));
  md->strings = static_cast<char *>(sg_malloc(bytes ? bytes : 1));
  if (!md->regions || !md->strings) {
    sg_lpn_metadata_free(md);
    return SG_ENOMEM;
  }
  size_t pos = 0;
  for (const PhoneMetadata &m : coll.metadata()) {
    if (!copy_region(m, md->strings, &pos, &md->regions[md->n++])) {
      sg_lpn_metadata_free(md);
      return SG_EPROTO;
    }
  }
  *out = md;
  return 0;
}

/* "gb" -> "GB"; NULL -> "" (libphonenumber's region codes are upper case). */
std::string region_arg(const char *region) {
  std::string r(region ? region : "");
  for (char &c : r)
    if (c >= 'a' && c <= 'z')
      c = (char)(c - 'a' + 'A');
  return r;
}

void clear_phone(sg_phone_t *out) {
  std::memset(out, 0, sizeof *out);
  out->type = SG_PHONE_UNKNOWN;
}

int parse_valid(const char *number, const char *default_region,
                sg_phone_t *out) {
  clear_phone(out);
  const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
  PhoneNumber pn;
  if (u->Parse(number, region_arg(default_region), &pn) !=
          PhoneNumberUtil::NO_PARSING_ERROR ||
      !u->IsValidNumber(pn))
    return 0;
  std::string e164, region;
  u->Format(pn, PhoneNumberUtil::E164, &e164);
  u->GetRegionCodeForNumber(pn, &region);
  if (e164.size() > SG_PHONE_E164_MAX || region.size() >= sizeof out->region)
    return 0; /* cannot happen for a valid number; never overflow */
  std::string nsn;
  u->GetNationalSignificantNumber(pn, &nsn);
  std::memcpy(out->e164, e164.c_str(), e164.size() + 1);
  std::memcpy(out->region, region.c_str(), region.size() + 1);
  out->country_code = (uint16_t)pn.country_code();
  out->nsn_offset = (uint8_t)(e164.size() - nsn.size());
  out->type = (sg_phone_type_t)u->GetNumberType(pn);
  return 1;
}

int format(const char *e164, PhoneNumberUtil::PhoneNumberFormat style,
           char *out, size_t cap) {
  const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
  PhoneNumber pn;
  if (e164[0] != '+' ||
      u->Parse(e164, "ZZ", &pn) != PhoneNumberUtil::NO_PARSING_ERROR)
    return SG_EINVAL;
  std::string s;
  u->Format(pn, style, &s);
  if (s.size() >= cap)
    return SG_ENOSPC;
  std::memcpy(out, s.c_str(), s.size() + 1);
  return (int)s.size();
}

} // namespace

extern "C" int sg_lpn_metadata_load(sg_lpn_metadata_t **out) {
  if (!out)
    return SG_EINVAL;
  *out = nullptr;
  try {
    return load(out);
  } catch (...) {
    return SG_ENOMEM;
  }
}

extern "C" void sg_lpn_metadata_free(sg_lpn_metadata_t *md) {
  if (!md)
    return;
  sg_free(md->regions);
  sg_free(md->strings);
  sg_free(md);
}

extern "C" int sg_lpn_parse_valid(const char *number,
                                  const char *default_region, sg_phone_t *out) {
  if (!number || !out)
    return SG_EINVAL;
  try {
    return parse_valid(number, default_region, out);
  } catch (...) {
    clear_phone(out);
    return SG_ENOMEM;
  }
}

extern "C" int sg_lpn_is_valid(const char *number, const char *default_region) {
  if (!number)
    return SG_EINVAL;
  try {
    const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
    PhoneNumber pn;
    return u->Parse(number, region_arg(default_region), &pn) ==
               PhoneNumberUtil::NO_PARSING_ERROR &&
           u->IsValidNumber(pn);
  } catch (...) {
    return SG_ENOMEM;
  }
}

extern "C" int sg_lpn_format_national(const char *e164, char *out, size_t cap) {
  if (!e164 || !out)
    return SG_EINVAL;
  try {
    return format(e164, PhoneNumberUtil::NATIONAL, out, cap);
  } catch (...) {
    return SG_ENOMEM;
  }
}

extern "C" int sg_lpn_format_international(const char *e164, char *out,
                                           size_t cap) {
  if (!e164 || !out)
    return SG_EINVAL;
  try {
    return format(e164, PhoneNumberUtil::INTERNATIONAL, out, cap);
  } catch (...) {
    return SG_ENOMEM;
  }
}
