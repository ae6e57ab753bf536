/* fuzz.c - libFuzzer target for the configuration loader: arbitrary bytes
 * through sg_config_load_string().
 *
 * Every input must either load, giving a configuration whose promises hold
 * (route entries resolved to connectors of that name, weights present,
 * enabled listeners with an address), or fail with SG_ECONFIG and at least
 * one error that formats. The same input is then loaded again with an
 * allocation failure injected part-way (chosen from the input), which must
 * give SG_ENOMEM or the first result, and leak nothing. Any violation
 * aborts, so the replay and the fuzzer report it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

static void check_config(const sg_config_t *cfg) {
  for (size_t i = 0; i < cfg->n_routes; i++) {
    const sg_config_route_t *r = &cfg->routes[i];
    check(r->prefix != NULL && r->prefix[0] == '+');
    check(r->n_connectors >= 1 && r->weights != NULL);
    for (size_t j = 0; j < r->n_connectors; j++) {
      check(r->connector_index[j] < cfg->n_connectors);
      check(strcmp(cfg->connectors[r->connector_index[j]].name,
                   r->connectors[j]) == 0);
      check(r->weights[j] >= 1);
    }
  }
  for (size_t i = 0; i < cfg->n_connectors; i++) {
    const sg_config_connector_t *k = &cfg->connectors[i];
    check(k->name != NULL);
    check(k->type == SG_CONFIG_CONNECTOR_MODEM
              ? k->device != NULL && k->device[0] == '/'
              : k->host != NULL && k->system_id != NULL);
    check(strlen(k->system_id) <= 15 && strlen(k->password) <= 8);
    check(k->port >= 1 && k->window >= 1 && k->binds >= 1);
    check(k->reconnect_min_ms <= k->reconnect_max_ms);
  }
  for (size_t i = 0; i < cfg->n_accounts; i++) {
    const sg_config_account_t *a = &cfg->accounts[i];
    check(a->name != NULL);
    check(a->api_key != NULL || a->password != NULL ||
          a->smpp.system_id != NULL);
    check(a->default_region[0] == '\0' || strlen(a->default_region) == 2);
  }
  check(cfg->http.listen.host != NULL && cfg->http.listen.port != 0);
  check(!cfg->simulator.enabled || cfg->simulator.listen.host != NULL);
  check(cfg->store.driver != SG_CONFIG_STORE_POSTGRES ||
        cfg->store.url != NULL);
}

static void check_errors(const sg_config_errors_t *errs) {
  char line[1024];
  check(errs->count >= 1 && errs->count <= SG_CONFIG_ERRORS_MAX);
  check(errs->count <= errs->total);
  for (size_t i = 0; i < errs->count; i++) {
    check(sg_config_error_format(errs, i, line, sizeof line) > 0);
    check(errs->items[i].message[0] != '\0');
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static sg_config_errors_t errs;
  sg_config_t *cfg = NULL;
  int rc =
      sg_config_load_string("fuzz.yaml", (const char *)data, size, &cfg, &errs);
  if (rc == 0) {
    check(cfg != NULL);
    check_config(cfg);
  } else {
    check(rc == SG_ECONFIG && cfg == NULL);
    check_errors(&errs);
  }
  sg_config_free(cfg);

  /* Again with the allocation number (size % 97) failing. */
  cfg = NULL;
  sg_alloc_fail_after((long)(size % 97));
  int rc2 =
      sg_config_load_string("fuzz.yaml", (const char *)data, size, &cfg, &errs);
  sg_alloc_fail_after(-1);
  check(rc2 == rc || rc2 == SG_ENOMEM);
  check((rc2 == 0) == (cfg != NULL));
  sg_config_free(cfg);
  return 0;
}
