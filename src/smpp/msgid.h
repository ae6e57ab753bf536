/* msgid.h - normalising SMSC message ids so that the id of a submit_sm_resp
 * (SMPP 3.4 section 4.4.2, message_id) can be matched with the id of a
 * delivery receipt (the receipted_message_id TLV of section 5.3.2.12, or the
 * "id:" of the Appendix B text).
 *
 * Both should be the same C-Octet String, but SMSCs differ: some answer
 * submit_sm_resp in hex and write the receipt id in decimal (SMPP 3.3 habits),
 * some change the case of hex letters, some pad with leading zeros. Kannel
 * has a per-SMSC setting for it (msg-id-type: hex or decimal for each side).
 * Here the same is a mode per side and per call.
 *
 * Pure functions: no I/O, no allocation. Ids are byte strings with a length
 * (not NUL-terminated); only ASCII letters are case-folded.
 */
#ifndef SG_SMPP_MSGID_H
#define SG_SMPP_MSGID_H

#include <stddef.h>

/* The most significant hex digits a numeric conversion accepts (a 64-octet
 * message_id, SMPP 3.4 section 5.2.23), and the longest key any mode makes:
 * 16^64 - 1 has 78 decimal digits. */
#define SG_MSGID_HEX_DIGITS_MAX 64
#define SG_MSGID_KEY_MAX 78

/* How to read an id.
 *  EXACT    the octets as they are.
 *  NOCASE   ASCII letters folded to lower case.
 *  DECIMAL  a decimal number: 1+ digits '0'-'9', nothing else.
 *  HEX      a hexadecimal number: an optional "0x"/"0X", then 1+ digits
 *           '0'-'9', 'a'-'f', 'A'-'F', nothing else.
 *  AUTO     see sg_msgid_key and sg_msgid_match. */
typedef enum sg_msgid_mode {
  SG_MSGID_AUTO = 0,
  SG_MSGID_EXACT = 1,
  SG_MSGID_NOCASE = 2,
  SG_MSGID_HEX = 3,
  SG_MSGID_DECIMAL = 4
} sg_msgid_mode_t;

/* Which rule made two ids match (sg_msgid_match); NONE (0) is no match. */
typedef enum sg_msgid_rule {
  SG_MSGID_RULE_NONE = 0,
  SG_MSGID_RULE_EXACT = 1,   /* the same octets */
  SG_MSGID_RULE_NOCASE = 2,  /* equal ignoring ASCII case */
  SG_MSGID_RULE_ZEROS = 3,   /* equal ignoring leading '0's and case */
  SG_MSGID_RULE_HEX_DEC = 4, /* hex(resp id) == decimal(receipt id) */
  SG_MSGID_RULE_DEC_HEX = 5, /* decimal(resp id) == hex(receipt id) */
  SG_MSGID_RULE_HEX = 6,     /* both hex, the same number */
  SG_MSGID_RULE_DECIMAL = 7  /* both decimal, the same number */
} sg_msgid_rule_t;

/* Writes the canonical key of id[0..len) under `mode` into out[0..cap) with
 * a NUL, so that ids which mean the same get byte-equal keys:
 *  EXACT    the id itself.
 *  NOCASE   the id in lower case.
 *  DECIMAL  the number in decimal without leading zeros ("0" for zero).
 *  HEX      the number in DECIMAL form, too: so that key(resp, HEX) ==
 *           key(receipt, DECIMAL) exactly when an SMSC that answers in hex
 *           reports in decimal (Kannel's msg-id-type), and HEX keys compare
 *           equal whatever the case, prefix or leading zeros.
 *  AUTO     DECIMAL when the id is all decimal digits, else HEX when it is a
 *           hex number (then it has a letter a-f or the 0x prefix), else
 *           NOCASE with leading '0's removed. One id, one key: an id of only
 *           decimal digits is read as decimal, so an SMSC whose hex ids can
 *           lack letters needs HEX on that side. Equal AUTO keys imply that
 *           sg_msgid_match(a, b, SG_MSGID_AUTO) matches.
 * Returns 0 with *out_len (may be NULL) the key length; SG_EINVAL for an
 * empty id, an id that is not a number of the mode (HEX, DECIMAL), a NULL
 * pointer or an unknown mode; SG_ETOOLONG for a number of more than
 * SG_MSGID_HEX_DIGITS_MAX significant hex digits or SG_MSGID_KEY_MAX decimal
 * ones (in AUTO such an id falls back to the NOCASE rule); SG_ENOSPC when the
 * key and its NUL do not fit (cap >= SG_MSGID_KEY_MAX + 1 fits every numeric
 * key). */
int sg_msgid_key(const char *id, size_t len, sg_msgid_mode_t mode, char *out,
                 size_t cap, size_t *out_len);

/* Whether a submit_sm_resp id and a receipt id name the same message.
 *  EXACT, NOCASE   compare as in sg_msgid_key (RULE_EXACT, RULE_NOCASE).
 *  HEX, DECIMAL    both ids must be numbers of the mode; equal values match
 *                  (RULE_HEX, RULE_DECIMAL).
 *  AUTO            tries, in this order: EXACT; NOCASE; ZEROS (both with
 *                  leading '0's removed, then NOCASE); HEX_DEC (resp id read
 *                  as HEX equals the receipt id read as DECIMAL); DEC_HEX (the
 *                  other way round); HEX (both hex, the same number, which
 *                  covers a "0x" on one side only), and reports the first
 *                  that holds.
 * Empty ids never match. The cross rules of AUTO are guesses: "16" and "10"
 * match by DEC_HEX. Use AUTO to confirm a candidate found another way or to
 * learn which rule an SMSC follows (then fix the modes for it), not to
 * search among many ids.
 * Returns the sg_msgid_rule_t that matched (> 0), 0 for no match, SG_EINVAL
 * for a NULL id with a non-zero length or an unknown mode. */
int sg_msgid_match(const char *resp_id, size_t resp_len, const char *receipt_id,
                   size_t receipt_len, sg_msgid_mode_t mode);

/* A short lower-case name of a rule ("hex_dec"), "none" for NONE, NULL for
 * values outside the enum. */
const char *sg_msgid_rule_name(sg_msgid_rule_t rule);

#endif
