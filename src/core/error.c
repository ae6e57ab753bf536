/* error.c - texts for the SG_E* codes. Pure table lookups, no state. */
#include "core/error.h"

const char *sg_strerror(int err) {
  switch (err) {
#define SG__ERRNO_TEXT(name, code, text)                                       \
  case code:                                                                   \
    return text;
    SG_ERRNO_MAP(SG__ERRNO_TEXT)
#undef SG__ERRNO_TEXT
  }
  return "unknown error";
}

const char *sg_err_name(int err) {
  switch (err) {
#define SG__ERRNO_NAME(name, code, text)                                       \
  case code:                                                                   \
    return #name;
    SG_ERRNO_MAP(SG__ERRNO_NAME)
#undef SG__ERRNO_NAME
  }
  return "UNKNOWN";
}
