-- 0009_settings.sql - as migrations/sqlite/0009_settings.sql: documents the
-- engine keeps across restarts by name.
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  body TEXT NOT NULL,
  updated_ms BIGINT NOT NULL
);
