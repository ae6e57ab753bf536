-- 0027_webhook_mark.sql - the watermark of the webhook deliveries that the
-- SQLite writer keeps in memory (src/store/sqlite_whq.c): every delivery of
-- a message event whose id is at most event_id is finished (taken by its
-- receiver, or written as a row of webhooks). At open the deliveries of the
-- events after it are built again. One row. A database that comes to this
-- version has every delivery of its events in rows already: the mark starts
-- at its newest event.

CREATE TABLE webhook_mark (
  event_id INTEGER NOT NULL
);
INSERT INTO webhook_mark (event_id) SELECT coalesce(max(id), 0) FROM events;
