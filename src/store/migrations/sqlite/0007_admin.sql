-- 0007_admin.sql - accounts and API keys managed at run time (REST
-- /v1/accounts and /v1/keys; store.h "ACCOUNTS AND KEYS AT RUN TIME").
--
-- An account created through the API keeps its settings in `spec`, the JSON
-- object of the account's configuration keys (docs/configuration.md), with
-- its Kannel password as an argon2id hash and without its SMPP password,
-- whose argon2id hash is `smpp_password_hash`. A row with a NULL spec is an
-- account of the configuration file.
ALTER TABLE accounts ADD COLUMN spec TEXT;
ALTER TABLE accounts ADD COLUMN smpp_password_hash TEXT;
ALTER TABLE accounts ADD COLUMN updated_ms INTEGER;

-- public_id: the short id users see ("k_" and 12 hex digits), not secret.
-- revoked_ms may lie in the future: a rotated key stays valid until then.
ALTER TABLE api_keys ADD COLUMN public_id TEXT;
CREATE UNIQUE INDEX api_keys_public ON api_keys(public_id)
  WHERE public_id IS NOT NULL;
