/* config_cmd.c - `smsgate config`: check a configuration file without
 * starting anything (every error with file:line:column, exit 1), or print
 * the built-in default as a starting point for one.
 *
 *   smsgate config check [-c FILE]   (default: the built-in configuration)
 *   smsgate config default
 *
 * It reads the file through the same loader as `serve`, so a file that
 * passes here is one `serve` accepts. It opens no store and no socket.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/error.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: smsgate config check [-c FILE]\n"
          "       smsgate config default\n"
          "\n"
          "check    reads FILE (default: the built-in configuration) as "
          "`serve`\n"
          "         would, prints every error with file:line:column and "
          "exits 1,\n"
          "         or prints a summary and exits 0; starts nothing\n"
          "default  prints the built-in configuration (YAML), to start a "
          "file from\n"
          "\n"
          "Every key is described in docs/configuration.md.\n");
}

static int check(const char *path) {
  sg_config_errors_t *errs = sg_calloc(1, sizeof *errs);
  if (errs == NULL)
    return 1;
  sg_config_t *cfg = NULL;
  int rc = path != NULL ? sg_config_load_file(path, &cfg, errs)
                        : sg_config_default(&cfg, errs);
  if (rc != 0) {
    sg_config_errors_print(errs, stderr);
    if (errs->count == 0)
      fprintf(stderr, "smsgate: %s: %s\n", path ? path : "configuration",
              sg_strerror(rc));
    sg_free(errs);
    return 1;
  }
  printf("%s: ok (%zu account(s), %zu connector(s), %zu route(s))\n",
         path != NULL ? path : "built-in configuration", cfg->n_accounts,
         cfg->n_connectors, cfg->n_routes);
  sg_config_free(cfg);
  sg_free(errs);
  return 0;
}

int sg_cmd_config(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "--help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "default") == 0 && argc == 2) {
    fputs(sg_config_default_yaml(), stdout);
    return 0;
  }
  if (strcmp(argv[1], "check") == 0) {
    const char *path = NULL;
    for (int i = 2; i < argc; i++) {
      if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
          i + 1 < argc && path == NULL) {
        path = argv[++i];
        continue;
      }
      if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
        usage(stdout);
        return 0;
      }
      fprintf(stderr, "smsgate config check: unknown or incomplete option "
                      "'%s'\n\n",
              argv[i]);
      usage(stderr);
      return 2;
    }
    return check(path);
  }
  fprintf(stderr, "smsgate config: unknown subcommand '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
