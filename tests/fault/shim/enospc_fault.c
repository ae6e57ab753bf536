/*
 * enospc_fault.so - an LD_PRELOAD shim for the fault tests: a full disk.
 * While the file named by $SG_FAULT_ENOSPC exists, every write to a regular
 * file under the directory $SG_FAULT_ENOSPC_DIR (the store's) fails with
 * ENOSPC before it reaches the kernel, as when the file system has no free
 * block left; writes elsewhere (logs, sockets, pipes) go through. It never
 * writes part of a buffer: a write fails whole or succeeds whole.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* Whether a write to fd must fail now. */
static int full(int fd) {
  const char *flag = getenv("SG_FAULT_ENOSPC");
  const char *dir = getenv("SG_FAULT_ENOSPC_DIR");
  if (flag == NULL || dir == NULL || access(flag, F_OK) != 0)
    return 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return 0;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0)
    return 0;
  path[n] = '\0';
  size_t dl = strlen(dir);
  if (strncmp(path, dir, dl) != 0 || (path[dl] != '/' && path[dl] != '\0'))
    return 0;
  errno = ENOSPC;
  return 1;
}

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);

/* The next definition of `name` (libc's), looked up once. */
static void *next(void **cache, const char *name) {
  if (*cache == NULL)
    *cache = dlsym(RTLD_NEXT, name);
  return *cache;
}

ssize_t write(int fd, const void *buf, size_t n) {
  static void *real;
  return full(fd) ? -1 : ((write_fn)next(&real, "write"))(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  static void *real;
  return full(fd) ? -1 : ((pwrite_fn)next(&real, "pwrite"))(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
  static void *real;
  return full(fd) ? -1
                  : ((pwrite64_fn)next(&real, "pwrite64"))(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  static void *real;
  return full(fd) ? -1 : ((writev_fn)next(&real, "writev"))(fd, iov, cnt);
}
