-- 0022_campaign_cancel.sql - as the SQLite migration of the same
-- number: campaigns.cancel_open is 1 from a campaign's CANCEL until its
-- queued messages are cancelled and its unsent recipients marked cancelled
-- (campaign_recipients.state 5); the engine finishes such a cancel after a
-- restart.
ALTER TABLE campaigns ADD COLUMN cancel_open INTEGER NOT NULL DEFAULT 0;
CREATE INDEX campaigns_cancel_open ON campaigns (id) WHERE cancel_open = 1;
