-- 0026_folded_part_events.sql - a part's event may share the row of the
-- message event it caused.
--
-- When a part's change moves its message to the same status in the same
-- transaction (a message of one part sent, delivered, failed, retried,
-- requeued or expired; the last part of a longer one), the two events
-- were two rows of `events` and two entries of events_message, written
-- one after the other. Now the message event's row (part_seq NULL, as
-- before, with its own id) also carries the part's: fold_seq is the part,
-- fold_error_code and fold_detail its error code and detail, fold_time_ms
-- its time when it is not the row's (a receipt's own time). A read shows
-- the part's event just before the message's, as the two rows gave them,
-- both with the row's id (only message events' ids are referred to, by
-- webhooks and Kannel dlr-url calls). Rows written before have fold_seq
-- NULL and are read as they are.
ALTER TABLE events ADD COLUMN fold_seq INTEGER;
ALTER TABLE events ADD COLUMN fold_error_code INTEGER;
ALTER TABLE events ADD COLUMN fold_detail TEXT;
ALTER TABLE events ADD COLUMN fold_time_ms INTEGER;
