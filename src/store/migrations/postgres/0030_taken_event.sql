-- 0030_taken_event.sql - the SQLite store marks the 'sending' event of a
-- part taken at its submit on the part (migrations/sqlite/0030); claims
-- never wait on PostgreSQL and it keeps a row for each event, so there is
-- nothing to do here.
SELECT 1;
