-- 0018_campaign_counts.sql - a campaign's counters are kept by the writer
-- (sqlite_campcount.c), only when a counter moves, instead of by triggers
-- that SQLite ran as a sub-program on every message insert and status
-- update, campaign or not (about a third of a status change's cost).
DROP TRIGGER IF EXISTS campaign_msg_insert;
DROP TRIGGER IF EXISTS campaign_msg_status;
