/* sqlite_settle.h - the idle SQLite writer settles one-part message rows
 * (sqlite_settle.c). Not for use outside src/store/. Writer thread only.
 */
#ifndef SG_STORE_SQLITE_SETTLE_H
#define SG_STORE_SQLITE_SETTLE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sg__sq_conn sg__sq_conn_t;
typedef struct sg__sq_settle sg__sq_settle_t;

/* The writer's place in the table (from the first row); NULL: no memory. */
sg__sq_settle_t *sg__sq_settle_new(void);
void sg__sq_settle_free(sg__sq_settle_t *s);

/* One batch, in a transaction of its own on c (outside any other): looks
 * at `max` rows, and settles (sg__sq_msg_settle) those whose one part
 * carries a final status. *settled counts the rows written; *more is
 * false when the pass ended (the table's last row was looked at). Returns
 * 0, or SG_EIO / SG_ENOMEM after the transaction was rolled back, which
 * leaves s as it was but for the pass, which starts again. */
int sg__sq_settle_batch(sg__sq_conn_t *c, sg__sq_settle_t *s, unsigned max,
                        unsigned *settled, bool *more);

/* A one-part row whose final status the writer's open transaction left
 * on its part (sqlite_write.c, set_msg_status): when the walk has passed
 * it, it joins the rows the next pass settles first (the walk finds the
 * others). An entry left by a transaction that rolled back finds nothing
 * to settle and leaves the list. s may be NULL (a reader's connection:
 * nothing to do). */
void sg__sq_settle_note(sg__sq_settle_t *s, const char *mid);

#endif
