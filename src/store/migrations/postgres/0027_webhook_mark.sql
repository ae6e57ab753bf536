-- 0027_webhook_mark.sql - the SQLite writer keeps the webhook deliveries of
-- one-part messages in memory under a watermark (migrations/sqlite/0027);
-- PostgreSQL keeps a row for each delivery, so there is nothing to do here.
SELECT 1;
