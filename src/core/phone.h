/* phone.h - validating and normalising phone numbers to E.164.
 *
 * Every recipient passes through sg_phone_normalize before a message is
 * accepted: "8 916 123-45-67" with default region RU, "00 44 20 7946 0958"
 * dialled from DE and "+1 (650) 253-0000" all come out as E.164
 * ("+79161234567"), with the region the number belongs to and its type
 * (mobile, fixed line, ...), or are rejected with a reason a user can act on.
 *
 * The rules are libphonenumber's, taken from its metadata at start-up and
 * compiled into PCRE2 JIT matchers, so that one number costs well under a
 * microsecond instead of libphonenumber's ~20 us; a differential test keeps
 * the answers equal to libphonenumber's Parse + IsValidNumber +
 * GetNumberType for every number in the accepted syntax (below).
 *
 * Accepted syntax (narrower than libphonenumber's, on purpose):
 *   - ASCII digits, an optional single '+' before the first digit, and the
 *     separators space, '-', '.', '(', ')' and '/' anywhere; ASCII white
 *     space (tab, CR, LF too) before the number starts and after its last
 *     digit; at most 250 bytes.
 *   - Letters are rejected (no vanity numbers such as 1-800-FLOWERS, no
 *     extensions such as "ext. 12": an SMS cannot dial an extension), as is
 *     every other character, a second '+' or one after a digit, each with
 *     the byte offset in the message. libphonenumber accepts some of these
 *     (it maps letters to digits, drops extensions and trailing junk); for
 *     every input in this syntax the answers are the same.
 *   - International prefixes are understood for the default region ("00",
 *     "011", "810", ...), as are national prefixes ("8" in RU, "0" in GB
 *     and DE, "1" in the NANPA) and their transformations (AR, BR, MX...).
 *   - Short codes ("900", "7726") are rejected as too short: only numbers
 *     that are valid full-length numbers are accepted. Allowing short codes
 *     per account is not implemented yet.
 *
 * Threads: a db is read-only once created and may be shared by any number of
 * threads. Matching needs scratch memory (PCRE2 match data), which lives in
 * an sg_phone_ctx_t: create one per thread (e.g. per event loop) and never
 * use one ctx from two threads at once. sg_phone_normalize allocates
 * nothing.
 */
#ifndef SG_CORE_PHONE_H
#define SG_CORE_PHONE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Number types, in libphonenumber's PhoneNumberType order. */
typedef enum sg_phone_type {
  SG_PHONE_FIXED_LINE = 0,
  SG_PHONE_MOBILE = 1,
  /* The region's patterns cannot tell the two apart (e.g. US, CA). */
  SG_PHONE_FIXED_LINE_OR_MOBILE = 2,
  SG_PHONE_TOLL_FREE = 3,
  SG_PHONE_PREMIUM_RATE = 4,
  SG_PHONE_SHARED_COST = 5,
  SG_PHONE_VOIP = 6,
  SG_PHONE_PERSONAL_NUMBER = 7,
  SG_PHONE_PAGER = 8,
  SG_PHONE_UAN = 9,
  SG_PHONE_VOICEMAIL = 10,
  SG_PHONE_UNKNOWN = 11
} sg_phone_type_t;

#define SG_PHONE_TYPE_COUNT 12

/* Why a number was rejected: enum suffix and stable name (for API error
 * codes). */
#define SG_PHONE_REASON_MAP(X)                                                 \
  X(OK, "ok")                                                                  \
  X(EMPTY, "empty")                                                            \
  X(NOT_A_NUMBER, "not_a_number")                                              \
  X(TOO_SHORT, "too_short")                                                    \
  X(TOO_LONG, "too_long")                                                      \
  X(INVALID_LENGTH, "invalid_length")                                          \
  X(INVALID_COUNTRY_CODE, "invalid_country_code")                              \
  X(NO_REGION, "missing_region")                                               \
  X(UNKNOWN_REGION, "unknown_region")                                          \
  X(INVALID_FOR_REGION, "invalid_for_region")

typedef enum sg_phone_reason {
#define SG__PHONE_REASON_ENUM(name, str) SG_PHONE_R_##name,
  SG_PHONE_REASON_MAP(SG__PHONE_REASON_ENUM)
#undef SG__PHONE_REASON_ENUM
      SG_PHONE_R_COUNT
} sg_phone_reason_t;

/* "+" + a country calling code of up to 3 digits + at most 17 digits. */
#define SG_PHONE_E164_MAX 21
#define SG_PHONE_ERR_TEXT_MAX 160

/* A normalised number. */
typedef struct sg_phone {
  char e164[SG_PHONE_E164_MAX + 1]; /* "+442079460958", NUL-terminated */
  char region[4];        /* "GB"; "001" for +800, +882 and the like */
  uint16_t country_code; /* 44 */
  uint8_t nsn_offset;    /* e164 + nsn_offset is the national significant
                            number, "2079460958" */
  sg_phone_type_t type;
} sg_phone_t;

/* The reason for a rejection, with an English sentence for the user, e.g.
 * "too short for GB (+44): numbers there have 9 or 10 digits after the
 * country code, this one has 7". */
typedef struct sg_phone_err {
  sg_phone_reason_t reason;
  /* For NOT_A_NUMBER: byte offset in the input of the offending character
   * (0 otherwise). */
  size_t offset;
  char text[SG_PHONE_ERR_TEXT_MAX];
} sg_phone_err_t;

typedef struct sg_phone_db sg_phone_db_t;
typedef struct sg_phone_ctx sg_phone_ctx_t;

/* Loads libphonenumber's metadata and compiles every pattern (national
 * number patterns per type, international and national prefixes, leading
 * digits) into PCRE2 JIT matchers. Takes tens of milliseconds: call once at
 * start. On success *out owns the db (free with sg_phone_db_free).
 * Returns 0, SG_ENOMEM, or SG_EPROTO when the metadata does not parse or a
 * pattern does not compile. */
int sg_phone_db_new(sg_phone_db_t **out);

/* Frees a db; NULL is a no-op. Every ctx made from it must be freed first. */
void sg_phone_db_free(sg_phone_db_t *db);

/* Whether `region` ("GB", case-insensitive) is a region the db knows, i.e.
 * one that can serve as a default region. For checking configuration. */
int sg_phone_region_known(const sg_phone_db_t *db, const char *region);

/* Creates the per-thread matching scratch for `db` (which must outlive it).
 * Returns NULL when out of memory. */
sg_phone_ctx_t *sg_phone_ctx_new(const sg_phone_db_t *db);

/* Frees a ctx; NULL is a no-op. */
void sg_phone_ctx_free(sg_phone_ctx_t *ctx);

/* Validates the `len` bytes at `input` (need not be NUL-terminated) as a
 * phone number and normalises it.
 * default_region: the region a number written without '+' or an
 *   international prefix belongs to ("RU", case-insensitive); NULL or ""
 *   for none, in which case only international numbers are accepted. An
 *   unknown region is an error only for numbers that need it.
 * out: on success, the E.164 form, its region, calling code and type.
 * err: may be NULL; on rejection gets the reason and a sentence; on success
 *   reason is SG_PHONE_R_OK and text empty.
 * Returns 0, or SG_EINVAL when the number is rejected (see err) or an
 * argument is NULL. Allocates nothing; uses ctx's scratch, so one ctx must
 * not be used by two threads at once. */
int sg_phone_normalize(sg_phone_ctx_t *ctx, const char *input, size_t len,
                       const char *default_region, sg_phone_t *out,
                       sg_phone_err_t *err);

/* "mobile", "fixed_line", "fixed_line_or_mobile", "toll_free", ...,
 * "unknown": stable names for APIs and logs. Never NULL. */
const char *sg_phone_type_name(sg_phone_type_t type);

/* "too_short", "invalid_country_code", ...: stable names for API error
 * codes. Never NULL ("unknown" for an out-of-range value). */
const char *sg_phone_reason_name(sg_phone_reason_t reason);

#ifdef __cplusplus
}
#endif

#endif
