-- 0028_first_event_in_row.sql - the SQLite store stopped writing a row for
-- the first event of a message inserted 'queued' (migrations/sqlite/0028);
-- PostgreSQL keeps a row for each event, so there is nothing to do here.
SELECT 1;
