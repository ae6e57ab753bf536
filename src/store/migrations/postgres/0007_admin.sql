-- 0007_admin.sql - as migrations/sqlite/0007_admin.sql: accounts and API
-- keys managed at run time.
ALTER TABLE accounts ADD COLUMN spec TEXT;
ALTER TABLE accounts ADD COLUMN smpp_password_hash TEXT;
ALTER TABLE accounts ADD COLUMN updated_ms BIGINT;
ALTER TABLE api_keys ADD COLUMN public_id TEXT;
CREATE UNIQUE INDEX api_keys_public ON api_keys(public_id)
  WHERE public_id IS NOT NULL;
