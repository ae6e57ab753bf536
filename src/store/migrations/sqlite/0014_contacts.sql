-- 0014_contacts.sql - contacts, contact lists and message templates of each
-- account (see store/contacts.h).
--
-- contacts: one row per (account, E.164 number); fields is a JSON object of
-- the contact's custom fields. AUTOINCREMENT: ids only grow, so a cursor
-- "after id N" stays stable while contacts are added or deleted.
-- contact_lists: named lists of an account; list_members ties contacts and
-- lists (many-to-many) and goes with either side when it is deleted.
-- templates: message texts with {{name}} / {{fields.x}} placeholders.
-- Opted-out numbers are not copied here: reads join the optouts table.

CREATE TABLE contacts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL,
  number TEXT NOT NULL,
  name TEXT,
  fields TEXT NOT NULL DEFAULT '{}',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE (account_id, number)
);
CREATE INDEX contacts_account ON contacts (account_id, id);

CREATE TABLE contact_lists (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE (account_id, name)
);

CREATE TABLE list_members (
  list_id INTEGER NOT NULL,
  contact_id INTEGER NOT NULL,
  added_ms INTEGER NOT NULL,
  PRIMARY KEY (list_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX list_members_contact ON list_members (contact_id);

CREATE TABLE templates (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  body TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  UNIQUE (account_id, name)
);
