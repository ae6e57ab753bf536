-- 0022_campaign_cancel.sql - a cancel that survives a restart.
--
-- campaigns.cancel_open: 1 from the CANCEL of a campaign until its queued
-- messages are cancelled and its unsent recipients marked cancelled
-- (campaign_recipients.state 5); the engine reads the campaigns with it set
-- at start (ACTIVE) and finishes their cancel. Campaigns cancelled before
-- this migration keep 0: their cancel is done.
ALTER TABLE campaigns ADD COLUMN cancel_open INTEGER NOT NULL DEFAULT 0;
CREATE INDEX campaigns_cancel_open ON campaigns (id) WHERE cancel_open = 1;
