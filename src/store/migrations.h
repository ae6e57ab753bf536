/* migrations.h - the schema migrations built into the binary.
 *
 * cmake/embed_sql.cmake turns src/store/migrations/<backend>/NNNN_name.sql
 * into a table of these, in version order (1, 2, 3 ...; a number may be
 * missing). Not for use outside src/store/.
 */
#ifndef SG_STORE_MIGRATIONS_H
#define SG_STORE_MIGRATIONS_H

#include <stddef.h>

typedef struct sg__migration {
  unsigned version;
  const char *name; /* the file name between "NNNN_" and ".sql" */
  const char *sql;  /* the whole file */
} sg__migration_t;

extern const sg__migration_t sg__sqlite_migrations[];
extern const size_t sg__sqlite_migrations_count;
/* src/store/migrations/postgres/ (the same numbers, PostgreSQL's dialect) */
extern const sg__migration_t sg__pg_migrations[];
extern const size_t sg__pg_migrations_count;

#endif
