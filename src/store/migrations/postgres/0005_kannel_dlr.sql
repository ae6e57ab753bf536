-- 0005_kannel_dlr.sql - as migrations/sqlite/0005_kannel_dlr.sql: Kannel
-- dlr-url callbacks and per-message webhook filters.
ALTER TABLE messages ADD COLUMN dlr_url TEXT;
ALTER TABLE messages ADD COLUMN dlr_mask INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN webhook_statuses BIGINT;
ALTER TABLE webhooks ADD COLUMN method TEXT NOT NULL DEFAULT 'POST';
