-- 0028_first_event_in_row.sql - no table changes. From this version a
-- message inserted 'queued' has no event row for that first event: the
-- message row says it, and the reader shows it first in the list
-- (src/store/sqlite_read.c, read_events). The number is taken so that an
-- older smsgate, which would show such a message's events without their
-- first one, refuses the file instead of reading it.
SELECT 1;
