-- 0021_traffic_by_writer.sql - traffic_minutes' message counts move from
-- triggers into the writer (sqlite_trafficw.c): a trigger runs as a
-- sub-program on every insert and status update of messages, and three
-- upserts a message cost about a third of the writer's time; the writer
-- adds a group's moves up in memory and writes one upsert per account and
-- minute. Inbound messages keep their trigger.
DROP TRIGGER IF EXISTS traffic_msg_insert;
DROP TRIGGER IF EXISTS traffic_msg_status;
