/* sqlite_mem.h - the memory allocator SQLite is given (internal). */
#ifndef SG_STORE_SQLITE_MEM_H
#define SG_STORE_SQLITE_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* Gives SQLite an allocator that keeps freed blocks of up to
 * SG__SQ_MEM_CLASS_MAX octets in per-thread lists, in front of malloc.
 * Must be called before SQLite is first initialised; a later call changes
 * nothing and returns false (SQLite keeps the allocator it has). Any
 * thread; calls after the first return what the first did. Not installed
 * in sanitizer builds (returns false), so that ASan sees every block. */
bool sg__sq_mem_install(void);

/* Statistics of the calling thread's lists, for tests: blocks handed out
 * from a list and blocks that went to malloc. */
typedef struct sg__sq_mem_stats {
  unsigned long long hits;
  unsigned long long misses;
  size_t cached; /* blocks held in the lists now */
} sg__sq_mem_stats_t;
void sg__sq_mem_stats(sg__sq_mem_stats_t *out);

/* Gives the calling thread's kept blocks back to malloc (a thread's blocks
 * also go back when it ends). */
void sg__sq_mem_drain(void);

/* The allocator's functions, exposed for the unit test (which drives them
 * without installing them). sizes as SQLite passes them (> 0). */
void *sg__sq_mem_malloc(int n);
void sg__sq_mem_free(void *p);
void *sg__sq_mem_realloc(void *p, int n);
int sg__sq_mem_size(void *p);
int sg__sq_mem_roundup(int n);

#define SG__SQ_MEM_CLASS_MAX 4096

#endif
