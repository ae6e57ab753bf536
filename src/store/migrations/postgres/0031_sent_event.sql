-- 0031_sent_event.sql - the SQLite store marks the 'sent' event of a
-- message of one part on its part when no delivery refers to it
-- (migrations/sqlite/0031); PostgreSQL keeps a row for each event, so there
-- is nothing to do here.
SELECT 1;
