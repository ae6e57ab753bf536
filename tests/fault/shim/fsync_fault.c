/*
 * fsync_fault.so - an LD_PRELOAD shim for the fault tests: while the file
 * named by $SG_FAULT_FSYNC exists, fsync() and fdatasync() fail with EIO
 * (as on a failing disk) instead of reaching the kernel. It never changes
 * what is written, only whether the flush reports success; tests use it to
 * check that smsgate acknowledges nothing whose commit failed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int failing(void) {
  const char *p = getenv("SG_FAULT_FSYNC");
  return p != NULL && access(p, F_OK) == 0;
}

int fsync(int fd) {
  static int (*real)(int);
  if (failing()) {
    errno = EIO;
    return -1;
  }
  if (real == NULL)
    *(void **)&real = dlsym(RTLD_NEXT, "fsync");
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (failing()) {
    errno = EIO;
    return -1;
  }
  if (real == NULL)
    *(void **)&real = dlsym(RTLD_NEXT, "fdatasync");
  return real(fd);
}
