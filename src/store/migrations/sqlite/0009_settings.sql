-- 0009_settings.sql - documents the engine keeps across restarts by name
-- (see store/store.h "settings"): the routing table edited through the
-- API ("routes") and the paused connectors ("paused_connectors"). The
-- store keeps the text as given and never reads it.

CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
) WITHOUT ROWID;
