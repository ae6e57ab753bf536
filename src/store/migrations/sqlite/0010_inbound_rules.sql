-- 0010_inbound_rules.sql - inbound routing rules set through the API, and
-- the counts of the automatic-reply limit (see store/store.h "INBOUND
-- RULES AND REPLY COUNTS").
--
-- inbound_rules: the rules in order (position 0, 1, ...), each a JSON
-- document written and read by the engine. AUTOINCREMENT: an id is never
-- given twice, even after its rule was deleted.
-- inbound_rules_state: one row once the rules were saved; managed = 1 when
-- they were set through the API (the configuration no longer seeds them).
-- reply_counts: automatic replies from one number to another ("from>to")
-- in the window that started at start_ms.

CREATE TABLE inbound_rules (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  position INTEGER NOT NULL,
  doc TEXT NOT NULL,
  updated_ms INTEGER NOT NULL
);

CREATE TABLE inbound_rules_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  managed INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);

CREATE TABLE reply_counts (
  pair TEXT PRIMARY KEY,
  start_ms INTEGER NOT NULL,
  count INTEGER NOT NULL
) WITHOUT ROWID;
