/* hash_password.c - `smsgate hash-password`: reads a password from standard
 * input and prints its argon2id hash, to write as an account's `password`
 * so that the configuration file does not hold the password itself (the
 * Kannel sendsms interface checks such hashes off the loop).
 *
 * The password is read from stdin only (never from the command line, where
 * other users could see it in the process list) and wiped after use.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli/commands.h"
#include "store/store.h"

#define PW_MAX 256

static void usage(FILE *f) {
  fprintf(f, "usage: smsgate hash-password < file-with-the-password\n\n"
             "Reads one password (the first line of standard input, without\n"
             "its line break, 1 to 256 bytes) and prints its argon2id hash,\n"
             "e.g. for accounts[].password:\n\n"
             "  printf '%%s' 's3cret' | smsgate hash-password\n");
}

int sg_cmd_hash_password(int argc, char **argv) {
  if (argc > 1) {
    bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
    usage(help ? stdout : stderr);
    return help ? 0 : 2;
  }
  char pw[PW_MAX + 2];
  if (fgets(pw, sizeof pw, stdin) == NULL) {
    fprintf(stderr, "hash-password: no password on standard input\n");
    return 1;
  }
  size_t len = strcspn(pw, "\r\n");
  int rc = 1;
  if (len == 0 || (len > PW_MAX)) {
    fprintf(stderr, "hash-password: the password must be 1 to %d bytes\n",
            PW_MAX);
  } else {
    char out[SG_STORE_PWHASH_MAX];
    if (sg_store_password_hash(pw, len, out) == 0) {
      printf("%s\n", out);
      rc = 0;
    } else {
      fprintf(stderr, "hash-password: hashing failed (out of memory?)\n");
    }
  }
  sodium_memzero(pw, sizeof pw);
  return rc;
}
