/* status.c - names and texts of the SMPP 3.4 command_status values (section
 * 5.1.3), looked up in status.def. Pure table lookups; never I/O. */
#include "smpp/pdu.h"

const char *sg_smpp_status_name(uint32_t command_status) {
  switch (command_status) {
#define STATUS_NAME(NAME, value, text)                                         \
  case value:                                                                  \
    return "ESME_" #NAME;
    SG_SMPP_STATUS_LIST(STATUS_NAME)
#undef STATUS_NAME
  }
  return NULL;
}

const char *sg_smpp_status_text(uint32_t command_status) {
  switch (command_status) {
#define STATUS_TEXT(NAME, value, text)                                         \
  case value:                                                                  \
    return text;
    SG_SMPP_STATUS_LIST(STATUS_TEXT)
#undef STATUS_TEXT
  }
  /* Section 5.1.3: 0x400-0x4FF are reserved for SMSC vendor specific
   * errors; every other unlisted value is reserved. */
  if (command_status >= 0x400 && command_status <= 0x4FF)
    return "Vendor specific error";
  return "Reserved";
}
