/* sqlite_fault.c - a pass-through SQLite VFS that can make writes fail, the
 * way SQLite's own test VFSes do, so that tests see what a full or failing
 * disk does to a commit.
 *
 * Every call goes to the default VFS. While the writer has set `failing`,
 * writes to the write-ahead log or a rollback journal return SQLITE_FULL or
 * SQLITE_IOERR_WRITE (writes to the main file are left alone: in WAL mode
 * they only happen in checkpoints, after the commit they belong to). It is
 * registered only for a store opened with fault_injection, under a name of
 * its own, and must never be the process's default VFS.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"

typedef struct fault_vfs {
  sqlite3_vfs base;
  sqlite3_vfs *real;
  sg__sq_fault_t *ctl;
} fault_vfs_t;

typedef struct fault_file {
  sqlite3_file base;
  sg__sq_fault_t *ctl;
  bool may_fail;      /* WAL or journal */
  sqlite3_file *real; /* follows this struct in the same allocation */
} fault_file_t;

#define REAL(f) (((fault_file_t *)(f))->real)
#define RVFS(v) (((fault_vfs_t *)(v))->real)

/* ---- file methods -------------------------------------------------------- */

static int f_close(sqlite3_file *f) {
  int rc = REAL(f)->pMethods->xClose(REAL(f));
  f->pMethods = NULL;
  return rc;
}

static int f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off) {
  return REAL(f)->pMethods->xRead(REAL(f), b, n, off);
}

static int f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off) {
  fault_file_t *ff = (fault_file_t *)f;
  if (ff->may_fail && ff->ctl->failing) {
    ff->ctl->tripped = true;
    return ff->ctl->disk_full ? SQLITE_FULL : SQLITE_IOERR_WRITE;
  }
  return REAL(f)->pMethods->xWrite(REAL(f), b, n, off);
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size) {
  return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int f_sync(sqlite3_file *f, int flags) {
  return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int f_file_size(sqlite3_file *f, sqlite3_int64 *size) {
  return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int f_lock(sqlite3_file *f, int l) {
  return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int f_unlock(sqlite3_file *f, int l) {
  return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int f_check_reserved(sqlite3_file *f, int *out) {
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int f_file_control(sqlite3_file *f, int op, void *arg) {
  return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int f_sector_size(sqlite3_file *f) {
  return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int f_device_chars(sqlite3_file *f) {
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int f_shm_map(sqlite3_file *f, int pg, int sz, int ext,
                     void volatile **p) {
  return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, p);
}

static int f_shm_lock(sqlite3_file *f, int off, int n, int flags) {
  return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void f_shm_barrier(sqlite3_file *f) {
  REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int f_shm_unmap(sqlite3_file *f, int del) {
  return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **p) {
  return REAL(f)->pMethods->xFetch(REAL(f), off, n, p);
}

static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) {
  return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods fault_io = {3,
                                            f_close,
                                            f_read,
                                            f_write,
                                            f_truncate,
                                            f_sync,
                                            f_file_size,
                                            f_lock,
                                            f_unlock,
                                            f_check_reserved,
                                            f_file_control,
                                            f_sector_size,
                                            f_device_chars,
                                            f_shm_map,
                                            f_shm_lock,
                                            f_shm_barrier,
                                            f_shm_unmap,
                                            f_fetch,
                                            f_unfetch};

/* ---- VFS methods --------------------------------------------------------- */

static int v_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags,
                  int *out_flags) {
  fault_file_t *ff = (fault_file_t *)f;
  ff->ctl = ((fault_vfs_t *)v)->ctl;
  ff->may_fail = (flags & (SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL)) != 0;
  ff->real = (sqlite3_file *)(ff + 1);
  f->pMethods = NULL;
  int rc = RVFS(v)->xOpen(RVFS(v), name, ff->real, flags, out_flags);
  if (rc == SQLITE_OK && ff->real->pMethods != NULL)
    f->pMethods = &fault_io;
  else if (ff->real->pMethods != NULL)
    ff->real->pMethods->xClose(ff->real);
  return rc;
}

static int v_delete(sqlite3_vfs *v, const char *name, int sync_dir) {
  return RVFS(v)->xDelete(RVFS(v), name, sync_dir);
}

static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out) {
  return RVFS(v)->xAccess(RVFS(v), name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out) {
  return RVFS(v)->xFullPathname(RVFS(v), name, n, out);
}

static void *v_dlopen(sqlite3_vfs *v, const char *name) {
  return RVFS(v)->xDlOpen(RVFS(v), name);
}

static void v_dlerror(sqlite3_vfs *v, int n, char *msg) {
  RVFS(v)->xDlError(RVFS(v), n, msg);
}

static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void) {
  return RVFS(v)->xDlSym(RVFS(v), h, sym);
}

static void v_dlclose(sqlite3_vfs *v, void *h) {
  RVFS(v)->xDlClose(RVFS(v), h);
}

static int v_randomness(sqlite3_vfs *v, int n, char *out) {
  return RVFS(v)->xRandomness(RVFS(v), n, out);
}

static int v_sleep(sqlite3_vfs *v, int us) {
  return RVFS(v)->xSleep(RVFS(v), us);
}

static int v_current_time(sqlite3_vfs *v, double *out) {
  return RVFS(v)->xCurrentTime(RVFS(v), out);
}

static int v_last_error(sqlite3_vfs *v, int n, char *out) {
  return RVFS(v)->xGetLastError(RVFS(v), n, out);
}

static int v_current_time64(sqlite3_vfs *v, sqlite3_int64 *out) {
  return RVFS(v)->xCurrentTimeInt64(RVFS(v), out);
}

int sg__sq_fault_register(sg__sq_fault_t *f) {
  sqlite3_vfs *real = sqlite3_vfs_find(NULL);
  if (real == NULL || real->iVersion < 2)
    return SG_ENOTSUP;
  fault_vfs_t *v = sg_calloc(1, sizeof *v);
  if (v == NULL)
    return SG_ENOMEM;
  snprintf(f->vfs_name, sizeof f->vfs_name, "sg-fault-%p", (void *)f);
  v->real = real;
  v->ctl = f;
  sqlite3_vfs *b = &v->base;
  b->iVersion = 2;
  b->szOsFile = (int)sizeof(fault_file_t) + real->szOsFile;
  b->mxPathname = real->mxPathname;
  b->zName = f->vfs_name;
  b->xOpen = v_open;
  b->xDelete = v_delete;
  b->xAccess = v_access;
  b->xFullPathname = v_full_pathname;
  b->xDlOpen = v_dlopen;
  b->xDlError = v_dlerror;
  b->xDlSym = v_dlsym;
  b->xDlClose = v_dlclose;
  b->xRandomness = v_randomness;
  b->xSleep = v_sleep;
  b->xCurrentTime = v_current_time;
  b->xGetLastError = v_last_error;
  b->xCurrentTimeInt64 = v_current_time64;
  if (sqlite3_vfs_register(b, 0) != SQLITE_OK) {
    sg_free(v);
    return SG_EIO;
  }
  f->vfs = v;
  return 0;
}

void sg__sq_fault_unregister(sg__sq_fault_t *f) {
  if (f->vfs == NULL)
    return;
  sqlite3_vfs_unregister(&((fault_vfs_t *)f->vfs)->base);
  sg_free(f->vfs);
  f->vfs = NULL;
}
