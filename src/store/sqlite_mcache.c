/* sqlite_mcache.c - the SQLite writer's copy of the message rows it wrote
 * (sqlite_mcache.h).
 *
 * An open-addressed table of SLOTS slots (linear probing, deletion by
 * moving the following entries back), at most half full: up to MAX_DEFAULT
 * messages between their submit and their final status, each one
 * allocation with its strings. SG_STORE_MESSAGE_MEMORY=<messages> in the
 * environment changes the count at open; 0 turns it off (every derivation
 * reads the row).
 *
 * Beside it, the message and seq of the parts claimed: PARTS entries
 * indexed by the part id's low bits (ids are consecutive, so as many
 * parts in flight as entries do not collide; an entry taken by another
 * part is read again from the row). And the parts sent: SMSC entries
 * indexed by a hash of the connector and the operator's id, each holding
 * both to be checked on a hit; an entry taken by another is looked up
 * again by the statement (as are the receipts after a restart, and those
 * that come later than SMSC sends).
 */
#include "store/sqlite_mcache.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/id.h"
#include "store/sqlite_int.h"

#define MAX_DEFAULT 16384
#define PARTS 4096 /* a power of two */
#define SMSC 4096  /* a power of two */
#define CONN_LEN 63
#define SMSC_ID_LEN 65 /* SMPP 3.4 message_id: a C-Octet String of 65 */

typedef struct ent {
  char id[SG_ID_LEN + 1];
  sg__sq_mrow_t row; /* its strings point into buf */
  char buf[];
} ent_t;

typedef struct part_ent {
  int64_t id; /* 0: empty */
  unsigned seq;
  char mid[SG_ID_LEN + 1];
  char conn[CONN_LEN + 1]; /* "": too long to keep */
} part_ent_t;

typedef struct smsc_ent {
  int64_t id;   /* the part's; 0: empty */
  int64_t gone; /* the largest part id the slot let go (pushed out, dropped) */
  unsigned seq;
  char mid[SG_ID_LEN + 1];
  char conn[CONN_LEN + 1];
  char smsc_id[SMSC_ID_LEN + 1];
} smsc_ent_t;

struct sg__sq_mc {
  ent_t **slot;
  size_t mask; /* slots - 1 */
  size_t n, max;
  part_ent_t *part; /* PARTS entries, or NULL */
  size_t n_part;    /* entries set since the last clear */
  smsc_ent_t *smsc; /* SMSC entries, or NULL */
  size_t n_smsc;    /* entries set since the last clear */
  /* No part at or below it is kept in smsc (sg__sq_mc_smsc_put): the
   * largest part id at open (sg__sq_mc_smsc_open), raised by a clear to
   * smsc_top, the largest part id kept. */
  int64_t smsc_floor, smsc_top;
};

static struct sg__sq_mc *mc(sg__sq_conn_t *c) {
  if (c->mc != NULL)
    return c->mc->max > 0 ? c->mc : NULL;
  struct sg__sq_mc *m = sg_calloc(1, sizeof *m);
  if (m == NULL)
    return NULL;
  const char *env = getenv("SG_STORE_MESSAGE_MEMORY");
  m->max = env != NULL ? (size_t)strtoul(env, NULL, 10) : MAX_DEFAULT;
  if (m->max > (1u << 22))
    m->max = 1u << 22;
  c->mc = m;
  if (m->max == 0)
    return NULL;
  size_t slots = 2;
  while (slots < 2 * m->max)
    slots <<= 1;
  if ((m->slot = sg_calloc(slots, sizeof *m->slot)) == NULL) {
    m->max = 0;
    return NULL;
  }
  m->mask = slots - 1;
  return m;
}

static size_t hash(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return (size_t)(h ^ (h >> 29));
}

/* The slot of id, or of the empty slot where it would go. */
static size_t find(const struct sg__sq_mc *m, const char *id) {
  size_t i = hash(id) & m->mask;
  while (m->slot[i] != NULL && strcmp(m->slot[i]->id, id) != 0)
    i = (i + 1) & m->mask;
  return i;
}

static size_t put_str(char *buf, size_t at, const char *s, const char **out) {
  if (s == NULL) {
    *out = NULL;
    return at;
  }
  size_t n = strlen(s) + 1;
  memcpy(buf + at, s, n);
  *out = buf + at;
  return at + n;
}

static size_t str_len(const char *s) {
  return s != NULL ? strlen(s) + 1 : 0;
}

void sg__sq_mc_put(sg__sq_conn_t *c, const char *id, const sg__sq_mrow_t *r) {
  struct sg__sq_mc *m = mc(c);
  if (m == NULL || m->n >= m->max || strlen(id) > SG_ID_LEN)
    return;
  size_t i = find(m, id);
  if (m->slot[i] != NULL)
    return; /* cannot be: an id is inserted once */
  size_t len = str_len(r->batch_id) + str_len(r->sender) +
               str_len(r->recipient) + str_len(r->client_ref) +
               str_len(r->callback_url) + str_len(r->dlr_url);
  ent_t *e = sg_malloc(sizeof *e + len);
  if (e == NULL)
    return;
  strcpy(e->id, id);
  e->row = *r;
  size_t at = 0;
  at = put_str(e->buf, at, r->batch_id, &e->row.batch_id);
  at = put_str(e->buf, at, r->sender, &e->row.sender);
  at = put_str(e->buf, at, r->recipient, &e->row.recipient);
  at = put_str(e->buf, at, r->client_ref, &e->row.client_ref);
  at = put_str(e->buf, at, r->callback_url, &e->row.callback_url);
  put_str(e->buf, at, r->dlr_url, &e->row.dlr_url);
  m->slot[i] = e;
  m->n++;
}

const sg__sq_mrow_t *sg__sq_mc_get(sg__sq_conn_t *c, const char *id) {
  struct sg__sq_mc *m = c->mc;
  if (m == NULL || m->n == 0)
    return NULL;
  ent_t *e = m->slot[find(m, id)];
  return e != NULL ? &e->row : NULL;
}

/* Empties slot i, moving back the entries after it that would no longer
 * be found. */
static void remove_at(struct sg__sq_mc *m, size_t i) {
  sg_free(m->slot[i]);
  m->slot[i] = NULL;
  m->n--;
  for (size_t j = (i + 1) & m->mask; m->slot[j] != NULL;
       j = (j + 1) & m->mask) {
    size_t home = hash(m->slot[j]->id) & m->mask;
    /* Entry j stays unless the hole i lies between its home and j. */
    if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
      m->slot[i] = m->slot[j];
      m->slot[j] = NULL;
      i = j;
    }
  }
}

void sg__sq_mc_status(sg__sq_conn_t *c, const char *id, sg_msg_status_t st) {
  struct sg__sq_mc *m = c->mc;
  if (m == NULL || m->n == 0)
    return;
  size_t i = find(m, id);
  if (m->slot[i] == NULL)
    return;
  if (sg_store_status_final(st))
    remove_at(m, i);
  else
    m->slot[i]->row.status = st;
}

void sg__sq_mc_part_put(sg__sq_conn_t *c, int64_t id, const char *mid,
                        unsigned seq, const char *connector) {
  struct sg__sq_mc *m = mc(c);
  if (m == NULL || id <= 0 || strlen(mid) > SG_ID_LEN)
    return;
  if (m->part == NULL && (m->part = sg_calloc(PARTS, sizeof *m->part)) == NULL)
    return;
  part_ent_t *e = &m->part[(uint64_t)id & (PARTS - 1)];
  e->id = id;
  e->seq = seq;
  memcpy(e->mid, mid, strlen(mid) + 1);
  size_t n = connector != NULL ? strlen(connector) : CONN_LEN + 1;
  if (n > CONN_LEN)
    n = 0;
  if (n > 0) /* connector may be NULL, and memcpy's NULL is undefined */
    memcpy(e->conn, connector, n);
  e->conn[n] = '\0';
  m->n_part++;
}

const char *sg__sq_mc_part_get(sg__sq_conn_t *c, int64_t id, unsigned *seq,
                               const char **connector) {
  struct sg__sq_mc *m = c->mc;
  if (m == NULL || m->part == NULL || m->n_part == 0 || id <= 0)
    return NULL;
  const part_ent_t *e = &m->part[(uint64_t)id & (PARTS - 1)];
  if (e->id != id)
    return NULL;
  *seq = e->seq;
  *connector = e->conn[0] != '\0' ? e->conn : NULL;
  return e->mid;
}

/* The slot of (connector, smsc_id): FNV-1a over both. */
unsigned sg__sq_mc_smsc_slot(const char *connector, const char *smsc_id) {
  uint64_t h = 1469598103934665603ull;
  for (const char *s = connector; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull;
  for (const char *s = smsc_id; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return (unsigned)((h ^ (h >> 29)) & (SMSC - 1));
}

static smsc_ent_t *smsc_slot(struct sg__sq_mc *m, const char *connector,
                             const char *smsc_id) {
  return &m->smsc[sg__sq_mc_smsc_slot(connector, smsc_id)];
}

static bool smsc_is(const smsc_ent_t *e, const char *connector,
                    const char *smsc_id) {
  return e->id != 0 && strcmp(e->smsc_id, smsc_id) == 0 &&
         strcmp(e->conn, connector) == 0;
}

void sg__sq_mc_smsc_put(sg__sq_conn_t *c, const char *connector,
                        const char *smsc_id, int64_t id, const char *mid,
                        unsigned seq) {
  struct sg__sq_mc *m = mc(c);
  if (m == NULL || connector == NULL || smsc_id == NULL || id <= 0 ||
      strlen(connector) > CONN_LEN || strlen(smsc_id) > SMSC_ID_LEN ||
      strlen(mid) > SG_ID_LEN)
    return;
  if (m->smsc == NULL && (m->smsc = sg_calloc(SMSC, sizeof *m->smsc)) == NULL)
    return;
  smsc_ent_t *e = smsc_slot(m, connector, smsc_id);
  bool same = smsc_is(e, connector, smsc_id);
  if (same && e->id > id)
    return; /* the statement would find that one */
  /* A hit must give what PART_BY_SMSC would, the largest part id with
   * this operator's id on this connector, whether or not the slot lost
   * an entry in between. Every part of this key kept before was kept in
   * this slot: a part above all the slot let go (e->gone), and above the
   * parts there were before the first was offered and before the last
   * clear (smsc_floor), is the largest. One not above may not be (an
   * operator that reuses its ids, and a SENT result that comes after a
   * later part's): it is not kept, and the slot forgets this key, so
   * that its receipt is looked up by the statement. */
  if (id <= m->smsc_floor || id <= e->gone) {
    if (same) {
      e->gone = e->id > e->gone ? e->id : e->gone;
      e->id = 0;
    }
    return;
  }
  if (e->id > e->gone)
    e->gone = e->id; /* another's, pushed out (or a smaller one's) */
  if (id > m->smsc_top)
    m->smsc_top = id;
  e->id = id;
  e->seq = seq;
  strcpy(e->mid, mid);
  strcpy(e->conn, connector);
  strcpy(e->smsc_id, smsc_id);
  m->n_smsc++;
}

int sg__sq_mc_smsc_open(sg__sq_conn_t *c) {
  struct sg__sq_mc *m = mc(c);
  if (m == NULL)
    return 0;
  sqlite3_stmt *s = sg__sq_stmt(c, SG__Q_PART_MAX_ID);
  if (s == NULL)
    return SG_EIO;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && sqlite3_column_int64(s, 0) > m->smsc_floor)
    m->smsc_floor = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : SG_EIO;
}

const char *sg__sq_mc_smsc_get(sg__sq_conn_t *c, const char *connector,
                               const char *smsc_id, int64_t *id,
                               unsigned *seq) {
  struct sg__sq_mc *m = c->mc;
  if (m == NULL || m->smsc == NULL || m->n_smsc == 0 || connector == NULL ||
      smsc_id == NULL)
    return NULL;
  const smsc_ent_t *e = smsc_slot(m, connector, smsc_id);
  if (!smsc_is(e, connector, smsc_id))
    return NULL;
  *id = e->id;
  *seq = e->seq;
  return e->mid;
}

void sg__sq_mc_smsc_drop(sg__sq_conn_t *c, const char *connector,
                         const char *smsc_id) {
  struct sg__sq_mc *m = c->mc;
  if (m == NULL || m->smsc == NULL || m->n_smsc == 0 || connector == NULL ||
      smsc_id == NULL)
    return;
  smsc_ent_t *e = smsc_slot(m, connector, smsc_id);
  if (smsc_is(e, connector, smsc_id)) {
    e->gone = e->id > e->gone ? e->id : e->gone;
    e->id = 0;
  }
}

void sg__sq_mc_clear(sg__sq_conn_t *c) {
  struct sg__sq_mc *m = c->mc;
  if (m == NULL)
    return;
  if (m->n_part > 0) {
    memset(m->part, 0, PARTS * sizeof *m->part);
    m->n_part = 0;
  }
  if (m->smsc_top > m->smsc_floor) /* the slots forget what they let go */
    m->smsc_floor = m->smsc_top;
  if (m->n_smsc > 0) {
    memset(m->smsc, 0, SMSC * sizeof *m->smsc);
    m->n_smsc = 0;
  }
  if (m->n == 0)
    return;
  for (size_t i = 0; i <= m->mask; i++) {
    sg_free(m->slot[i]);
    m->slot[i] = NULL;
  }
  m->n = 0;
}

void sg__sq_mc_tx_end(sg__sq_conn_t *c, bool committed) {
  if (!committed)
    sg__sq_mc_clear(c);
}

void sg__sq_mc_close(sg__sq_conn_t *c) {
  sg__sq_mc_clear(c);
  if (c->mc != NULL) {
    sg_free(c->mc->slot);
    sg_free(c->mc->part);
    sg_free(c->mc->smsc);
  }
  sg_free(c->mc);
  c->mc = NULL;
}
