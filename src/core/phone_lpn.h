/* phone_lpn.h - a thin C interface to libphonenumber (C++).
 *
 * smsgate validates numbers on its hot path with its own matcher
 * (core/phone.h), built from libphonenumber's metadata. This interface is
 * how that matcher gets the metadata, and how the rest of smsgate reaches
 * what only libphonenumber itself does well: national formatting, and an
 * independent answer for the differential test that keeps the two equal.
 *
 * libphonenumber's Parse + IsValidNumber cost about 20 us per number; call
 * sg_lpn_parse_valid and the formatters off the hot path. Every function is
 * safe from any thread (libphonenumber's PhoneNumberUtil is thread-safe
 * once created; the first call creates it). No function here throws: C++
 * exceptions are caught and returned as SG_ENOMEM.
 */
#ifndef SG_CORE_PHONE_LPN_H
#define SG_CORE_PHONE_LPN_H

#include <stddef.h>
#include <stdint.h>

#include "core/phone.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One PhoneNumberDesc of the metadata (phonemetadata.proto). */
typedef struct sg_lpn_desc {
  /* national_number_pattern, or NULL when absent or empty (libphonenumber
   * then never matches the description). */
  const char *pattern;
  /* example_number, or NULL. */
  const char *example;
  /* possible_length as a bit set: bit n set = n digits are possible. Only
   * meaningful when has_lengths; possible_length [-1] ("no numbers of this
   * type") is has_lengths = 1 with lengths = 0. */
  uint32_t lengths;
  /* possible_length_local_only, as a bit set. */
  uint32_t local_lengths;
  /* Whether possible_length was given. When it was not, a type
   * description inherits the lengths of the general description. */
  int has_lengths;
} sg_lpn_desc_t;

/* One PhoneMetadata entry: a region ("GB") or a non-geographic entity
 * ("001", one entry per country calling code such as +800). */
typedef struct sg_lpn_region {
  char id[4];
  int country_code;
  int main_country_for_code;
  int same_mobile_and_fixed_line_pattern;
  const char *international_prefix;           /* NULL when absent */
  const char *national_prefix_for_parsing;    /* NULL when absent or empty */
  const char *national_prefix_transform_rule; /* NULL when absent or empty */
  const char *leading_digits;                 /* NULL when absent */
  /* Indexed by sg_phone_type_t: desc[SG_PHONE_UNKNOWN] is general_desc,
   * desc[SG_PHONE_FIXED_LINE_OR_MOBILE] is unused (all NULL/0). */
  sg_lpn_desc_t desc[SG_PHONE_TYPE_COUNT];
} sg_lpn_region_t;

/* The whole PhoneMetadataCollection, in the order libphonenumber keeps it
 * (that order decides which region of a shared calling code is tried
 * first). */
typedef struct sg_lpn_metadata {
  size_t n;
  sg_lpn_region_t *regions;
  char *strings; /* owns every string the regions point to */
} sg_lpn_metadata_t;

/* Parses the metadata compiled into libphonenumber (metadata_get() /
 * metadata_size(), a PhoneMetadataCollection protobuf) into a plain C copy,
 * allocated with sg_malloc. On success *out owns it (free it with
 * sg_lpn_metadata_free). Returns 0, SG_ENOMEM, or SG_EPROTO when the
 * protobuf does not parse or holds a value this copy cannot represent (a
 * possible length outside -1..31). */
int sg_lpn_metadata_load(sg_lpn_metadata_t **out);

/* Frees what sg_lpn_metadata_load returned; NULL is a no-op. */
void sg_lpn_metadata_free(sg_lpn_metadata_t *md);

/* libphonenumber's own verdict on `number` (NUL-terminated UTF-8):
 * PhoneNumberUtil::Parse with `default_region` (a CLDR region code such as
 * "GB", case-insensitive; NULL or "" for none), then IsValidNumber,
 * GetRegionCodeForNumber, GetNumberType and Format(E164).
 * Returns 1 when the number parses and is valid (*out filled), 0 when it
 * does not parse or is not valid (*out cleared: empty strings,
 * SG_PHONE_UNKNOWN), SG_EINVAL for NULL arguments, SG_ENOMEM. */
int sg_lpn_parse_valid(const char *number, const char *default_region,
                       sg_phone_t *out);

/* Only libphonenumber's Parse + IsValidNumber on `number` with
 * `default_region` (as sg_lpn_parse_valid, without formatting the result):
 * 1 valid, 0 not, SG_EINVAL for a NULL number, SG_ENOMEM. For measuring
 * the library's own cost. */
int sg_lpn_is_valid(const char *number, const char *default_region);

/* Formats an E.164 number ("+442079460958") the way it is written inside its
 * own country ("020 7946 0958") or internationally ("+44 20 7946 0958"),
 * NUL-terminated into `out` (`cap` bytes). Returns the length written,
 * SG_EINVAL when `e164` does not parse as an international number,
 * SG_ENOSPC when `out` is too small, SG_ENOMEM. */
int sg_lpn_format_national(const char *e164, char *out, size_t cap);
int sg_lpn_format_international(const char *e164, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
