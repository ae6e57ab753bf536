/* sqlite_walbuf.c - a pass-through SQLite VFS that gathers the writes of a
 * transaction to its write-ahead log into one system call.
 *
 * SQLite writes each WAL frame with two calls (its 24-byte header, then the
 * page), so a commit of 80 pages costs 160 pwrite()s, and on a virtual
 * machine each system call is dear. This VFS keeps writes that continue
 * one another in a buffer of the file and writes the buffer out with one
 * pwrite() before anything that could look at the file: a sync, a read, a
 * size, a truncation, a file control, a lock, a close, or a write that does
 * not continue the buffer. With synchronous=FULL SQLite syncs the log in
 * every commit before it publishes the commit in the WAL index, so another
 * connection never sees a frame that is still in the buffer, and what was
 * durable before stays durable: the buffer only holds what SQLite has not
 * yet asked to be synced. It is used only by the writer's connection of a
 * store opened with synchronous=FULL (with NORMAL the log is not synced at
 * commit, and a reader could see a frame before it reached the file), under
 * a name of its own, and must never be the process's default VFS nor change
 * a byte of what reaches the file or the order in which it does.
 *
 * While the writer has set `defer` (its COMMIT, for the commit pipeline of
 * sqlite_sync.c), a sync of the log writes out what waits and notes that a
 * sync is owed instead of making it; the pipeline syncs the file before the
 * commit is answered. Every other sync (checkpoints, the writer's own in
 * its WAL hook) is made here, as before.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "store/sqlite_int.h"

#define WALBUF_CAP (1024 * 1024) /* bytes gathered before a forced write */
/* The unix VFS writes at most 0x1ffff bytes per call (seekAndWriteFd masks
 * the length), so the buffer goes out in pieces below that. */
#define WALBUF_CHUNK (31 * 4096)

typedef struct wb_vfs {
  sqlite3_vfs base;
  sqlite3_vfs *real;
  sg__sq_walbuf_t *ctl;
} wb_vfs_t;

typedef struct wb_file {
  sqlite3_file base;
  sg__sq_walbuf_t *ctl;
  bool gather;        /* a write-ahead log */
  uint8_t *buf;       /* WALBUF_CAP bytes, allocated on first write */
  size_t len;         /* bytes waiting in buf */
  sqlite3_int64 off;  /* the file offset of buf[0] */
  sqlite3_file *real; /* follows this struct in the same allocation */
} wb_file_t;

#define WB(f) ((wb_file_t *)(f))
#define REAL(f) (WB(f)->real)
#define RVFS(v) (((wb_vfs_t *)(v))->real)

/* Writes out what is waiting. A failed write drops it: SQLite fails the
 * transaction, and frames past the last commit are never read. */
static int flush(wb_file_t *w) {
  int rc = SQLITE_OK;
  for (size_t done = 0; rc == SQLITE_OK && done < w->len;) {
    size_t n = w->len - done < WALBUF_CHUNK ? w->len - done : WALBUF_CHUNK;
    rc = w->real->pMethods->xWrite(w->real, w->buf + done, (int)n,
                                   w->off + (sqlite3_int64)done);
    done += n;
    w->ctl->flushes++;
  }
  w->len = 0;
  return rc;
}

/* ---- file methods -------------------------------------------------------- */

static int f_close(sqlite3_file *f) {
  wb_file_t *w = WB(f);
  int rc = flush(w);
  int rc2 = w->real->pMethods->xClose(w->real);
  sg_free(w->buf);
  w->buf = NULL;
  f->pMethods = NULL;
  return rc != SQLITE_OK ? rc : rc2;
}

static int f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off) {
  int rc = flush(WB(f));
  return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xRead(REAL(f), b, n, off);
}

static int f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off) {
  wb_file_t *w = WB(f);
  size_t sz = (size_t)n;
  if (!w->gather || n <= 0)
    return w->real->pMethods->xWrite(w->real, b, n, off);
  if (w->len > 0 &&
      (off != w->off + (sqlite3_int64)w->len || w->len + sz > WALBUF_CAP)) {
    int rc = flush(w);
    if (rc != SQLITE_OK)
      return rc;
  }
  if (sz > WALBUF_CHUNK) /* as SQLite would have written it */
    return w->real->pMethods->xWrite(w->real, b, n, off);
  if (w->buf == NULL && (w->buf = sg_malloc(WALBUF_CAP)) == NULL)
    return w->real->pMethods->xWrite(w->real, b, n, off);
  if (w->len == 0)
    w->off = off;
  memcpy(w->buf + w->len, b, sz);
  w->len += sz;
  w->ctl->writes++;
  return SQLITE_OK;
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size) {
  int rc = flush(WB(f));
  return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int f_sync(sqlite3_file *f, int flags) {
  wb_file_t *w = WB(f);
  int rc = flush(w);
  if (rc != SQLITE_OK)
    return rc;
  if (w->gather && w->ctl->defer) { /* the sync thread makes it */
    w->ctl->owed = true;
    return SQLITE_OK;
  }
  return w->real->pMethods->xSync(w->real, flags);
}

static int f_file_size(sqlite3_file *f, sqlite3_int64 *size) {
  int rc = flush(WB(f));
  return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int f_lock(sqlite3_file *f, int l) {
  int rc = flush(WB(f));
  return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xLock(REAL(f), l);
}

static int f_unlock(sqlite3_file *f, int l) {
  int rc = flush(WB(f));
  return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int f_check_reserved(sqlite3_file *f, int *out) {
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int f_file_control(sqlite3_file *f, int op, void *arg) {
  int rc = flush(WB(f));
  return rc != SQLITE_OK ? rc
                         : REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
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
  int rc = flush(WB(f));
  return rc != SQLITE_OK ? rc : REAL(f)->pMethods->xFetch(REAL(f), off, n, p);
}

static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) {
  return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods wb_io = {3,
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
  wb_file_t *w = WB(f);
  memset(w, 0, sizeof *w);
  w->ctl = ((wb_vfs_t *)v)->ctl;
  w->gather = (flags & SQLITE_OPEN_WAL) != 0;
  w->real = (sqlite3_file *)(w + 1);
  int rc = RVFS(v)->xOpen(RVFS(v), name, w->real, flags, out_flags);
  if (rc == SQLITE_OK && w->gather && name != NULL && w->ctl->wal_path == NULL)
    w->ctl->wal_path = sg_strdup(name);
  if (rc == SQLITE_OK && w->real->pMethods != NULL)
    f->pMethods = &wb_io;
  else if (w->real->pMethods != NULL)
    w->real->pMethods->xClose(w->real);
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

int sg__sq_walbuf_register(sg__sq_walbuf_t *wb, const char *below) {
  sqlite3_vfs *real = sqlite3_vfs_find(below);
  if (real == NULL || real->iVersion < 2)
    return SG_ENOTSUP;
  wb_vfs_t *v = sg_calloc(1, sizeof *v);
  if (v == NULL)
    return SG_ENOMEM;
  snprintf(wb->vfs_name, sizeof wb->vfs_name, "sg-walbuf-%p", (void *)wb);
  v->real = real;
  v->ctl = wb;
  sqlite3_vfs *b = &v->base;
  b->iVersion = 2;
  b->szOsFile = (int)sizeof(wb_file_t) + real->szOsFile;
  b->mxPathname = real->mxPathname;
  b->zName = wb->vfs_name;
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
  wb->vfs = v;
  return 0;
}

void sg__sq_walbuf_unregister(sg__sq_walbuf_t *wb) {
  if (wb->vfs == NULL)
    return;
  sqlite3_vfs_unregister(&((wb_vfs_t *)wb->vfs)->base);
  sg_free(wb->vfs);
  wb->vfs = NULL;
  sg_free(wb->wal_path);
  wb->wal_path = NULL;
}
