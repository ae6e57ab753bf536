-- 0008_limits.sql - what an account has used of its quota, and its prepaid
-- balance (engine/limits.c, store.h "LIMITS").
--
-- Usage is counted in parts, per UTC day ('2026-11-26') and month
-- ('2026-11'), by the transaction that stores the messages; old periods are
-- kept (a few rows per account per day) for the operator to read. The
-- balance is in integer micro-units (1.00 = 1000000), taken by the same
-- transaction that stores the messages it pays for.

CREATE TABLE account_usage (
  account_id  INTEGER NOT NULL,
  period      TEXT NOT NULL,
  parts       INTEGER NOT NULL,
  PRIMARY KEY (account_id, period)
) WITHOUT ROWID;

CREATE TABLE account_balance (
  account_id  INTEGER PRIMARY KEY,
  micro       INTEGER NOT NULL,
  updated_ms  INTEGER NOT NULL
);

-- Every top-up, for the books: the amount and the balance it left.
CREATE TABLE balance_credits (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL,
  amount      INTEGER NOT NULL,
  balance     INTEGER NOT NULL,
  time_ms     INTEGER NOT NULL
);
CREATE INDEX balance_credits_account ON balance_credits(account_id, id);
