/* config_diff.h - what changed between two checked configurations, as a
 * reload needs to know it: which connectors were added, removed, changed
 * in a way that needs new binds, or changed only in settings that apply to
 * running binds; which accounts were added, removed or changed; whether the
 * routes, webhooks or inbound settings differ; and which keys changed that
 * cannot change while smsgate runs (listen addresses, the store).
 *
 * Pure: reads both configurations, never changes them, does no I/O.
 */
#ifndef SG_CORE_CONFIG_DIFF_H
#define SG_CORE_CONFIG_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

typedef enum sg_config_change {
  SG_CONFIG_SAME = 0,    /* equal in every key */
  SG_CONFIG_ADDED = 1,   /* only in the new configuration */
  SG_CONFIG_REMOVED = 2, /* only in the old configuration */
  /* Changed only in keys that apply in place: a connector's tps,
   * max_retries and prices (SMPP connectors); any key of an account. */
  SG_CONFIG_CHANGED = 3,
  /* A connector whose connection settings changed: its binds are opened
   * again with the new settings. */
  SG_CONFIG_REBIND = 4
} sg_config_change_t;

#define SG_CONFIG_DIFF_KEYS_MAX 192 /* octets of an item's key list */
#define SG_CONFIG_DIFF_RESTART_MAX 32

typedef struct sg_config_diff_item {
  const char *name; /* borrowed from the configuration it comes from */
  sg_config_change_t change;
  size_t old_index; /* into the old configuration's array; SIZE_MAX: none */
  size_t new_index; /* into the new one; SIZE_MAX: none */
  /* The keys that differ, in schema order, ", " between them ("host,
   * port"); cut with "..." when long. Empty for SAME, ADDED, REMOVED. */
  char keys[SG_CONFIG_DIFF_KEYS_MAX];
} sg_config_diff_item_t;

typedef struct sg_config_diff {
  /* Every connector and account of both: first those of the new
   * configuration in its order, then the removed ones in the old order. */
  sg_config_diff_item_t *connectors;
  size_t n_connectors;
  sg_config_diff_item_t *accounts;
  size_t n_accounts;
  bool routes; /* the list of routes differs in any key or in order */
  /* webhooks.retry_min, retry_max or max_age (read at each retry). */
  bool webhooks;
  /* inbound keywords, replies or reassembly_timeout (read at each
   * message). */
  bool inbound;
  /* Keys that differ and take effect only at the next start, as paths
   * ("http.listen", "store.path", "webhooks.concurrency", "inbound.rules";
   * "http" or "smpp_server" for their other keys). */
  const char *restart[SG_CONFIG_DIFF_RESTART_MAX];
  size_t n_restart;
} sg_config_diff_t;

/* Compares old and new (both loaded and checked by sg_config_load_*) into
 * *out, which the caller frees with sg_config_diff_free. Names and keys in
 * *out borrow from old and new: keep both alive while using it. Returns 0,
 * SG_EINVAL (a NULL argument), or SG_ENOMEM (*out is then empty). */
int sg_config_diff(const sg_config_t *old, const sg_config_t *new_,
                   sg_config_diff_t *out);

/* Frees the arrays of d and empties it; NULL is a no-op. */
void sg_config_diff_free(sg_config_diff_t *d);

/* Whether the diff changes nothing at all. */
bool sg_config_diff_empty(const sg_config_diff_t *d);

/* "same", "added", "removed", "changed", "rebind". */
const char *sg_config_change_name(sg_config_change_t c);

#endif
