/* error.h - the C error codes of smsgate.
 *
 * Every function that can fail returns 0 (or a count) on success and one of
 * these negative codes on failure; there is no global error state. Protocol
 * status codes (ESME_R*, CMS ERROR, HTTP) are data with their own tables and
 * are never mixed with these.
 */
#ifndef SG_CORE_ERROR_H
#define SG_CORE_ERROR_H

/* The incremental-parsing convention: a framer returns > 0 (bytes consumed or
 * available), SG_NEED_MORE when it needs more input, < 0 on error. */
#define SG_NEED_MORE 0

#define SG_ERRNO_MAP(X)                                                        \
  X(ENOMEM, -1, "out of memory")                                               \
  X(EINVAL, -2, "invalid argument")                                            \
  X(ENOSPC, -3, "output buffer too small")                                     \
  X(EILSEQ, -4, "invalid byte sequence")                                       \
  X(ERANGE, -5, "value out of range")                                          \
  X(ETOOLONG, -6, "too long")                                                  \
  X(EPROTO, -7, "protocol error")                                              \
  X(ENOTSUP, -8, "not supported")                                              \
  X(ETRUNC, -9, "truncated input")                                             \
  X(ECHARSET, -10, "character not representable in the chosen alphabet")       \
  X(ETOOMANYPARTS, -11, "message needs more parts than allowed")               \
  X(EIO, -12, "input/output error")                                            \
  X(ETIMEDOUT, -13, "timed out")                                               \
  X(ECLOSED, -14, "connection closed")                                         \
  X(ESTATE, -15, "not allowed in the current state")                           \
  X(ENOENT, -16, "not found")                                                  \
  X(EEXIST, -17, "already exists")                                             \
  X(EBUSY, -18, "busy, try again later")                                       \
  X(ECONFIG, -19, "configuration error")                                       \
  X(EPERM, -20, "not permitted")                                               \
  X(ENOFUNDS, -21, "insufficient balance")

enum sg_errno {
#define SG__ERRNO_ENUM(name, code, text) SG_##name = (code),
  SG_ERRNO_MAP(SG__ERRNO_ENUM)
#undef SG__ERRNO_ENUM
};

/* Returns a static English text for an SG_E* code ("unknown error" for any
 * other value). Never NULL; safe from any thread. */
const char *sg_strerror(int err);

/* Returns the symbolic name ("EINVAL") of an SG_E* code, or "UNKNOWN". */
const char *sg_err_name(int err);

#endif
