-- 0015_campaigns.sql - campaigns: one text or template sent to the members
-- of contact lists (see store/campaigns.h).
--
-- campaigns: one row per campaign. Its id is also the batch_id of every
-- message it sends, which is how the triggers below keep its counters.
-- exp_pos / exp_after are the expansion's cursor (the list being expanded,
-- by position in campaign_lists, and the last contact id taken from it);
-- they move in the same transaction as the recipients they cover, so an
-- expansion stopped by a crash continues where it stopped.
-- campaign_lists: the lists of a campaign, in the order given.
-- campaign_recipients: one row per distinct E.164 number (UNIQUE: a number
-- in two lists, or twice in one, is a duplicate and counted as such).
-- state: 0 pending, 1 releasing (taken by release rel, submitted with an
-- idempotency key made of the campaign id and rel), 2 released,
-- 3 opted out (never sent), 4 invalid (refused by submit).

CREATE TABLE campaigns (
  id TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  body TEXT NOT NULL,
  template_id INTEGER,
  sender TEXT,
  send_at_ms INTEGER,
  window_start INTEGER,
  window_end INTEGER,
  rate_per_minute INTEGER NOT NULL DEFAULT 0,
  validity_ms INTEGER NOT NULL DEFAULT 0,
  callback_url TEXT,
  error TEXT,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  started_ms INTEGER,
  completed_ms INTEGER,
  expanded INTEGER NOT NULL DEFAULT 0,
  exp_pos INTEGER NOT NULL DEFAULT 0,
  exp_after INTEGER NOT NULL DEFAULT 0,
  next_rel INTEGER NOT NULL DEFAULT 1,
  n_recipients INTEGER NOT NULL DEFAULT 0,
  n_pending INTEGER NOT NULL DEFAULT 0,
  n_optout INTEGER NOT NULL DEFAULT 0,
  n_duplicate INTEGER NOT NULL DEFAULT 0,
  n_invalid INTEGER NOT NULL DEFAULT 0,
  n_queued INTEGER NOT NULL DEFAULT 0,
  n_sent INTEGER NOT NULL DEFAULT 0,
  n_delivered INTEGER NOT NULL DEFAULT 0,
  n_failed INTEGER NOT NULL DEFAULT 0,
  n_canceled INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX campaigns_account ON campaigns (account_id, id);
CREATE INDEX campaigns_active ON campaigns (id)
  WHERE status IN ('scheduled', 'running', 'paused');

CREATE TABLE campaign_lists (
  campaign_id TEXT NOT NULL,
  pos INTEGER NOT NULL,
  list_id INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, pos)
) WITHOUT ROWID;

CREATE TABLE campaign_recipients (
  id INTEGER PRIMARY KEY,
  campaign_id TEXT NOT NULL,
  number TEXT NOT NULL,
  contact_id INTEGER NOT NULL,
  state INTEGER NOT NULL,
  rel INTEGER,
  UNIQUE (campaign_id, number)
);
CREATE INDEX campaign_recipients_pending ON campaign_recipients (campaign_id, id)
  WHERE state = 0;
CREATE INDEX campaign_recipients_releasing ON campaign_recipients (campaign_id, rel, id)
  WHERE state = 1;

-- Progress counters: a message of a campaign (batch_id = campaign id) counts
-- in one bucket by its status; a status change moves it. One primary-key
-- probe per message write, a no-op for messages of no campaign.
CREATE TRIGGER campaign_msg_insert AFTER INSERT ON messages
BEGIN
  UPDATE campaigns SET
    n_queued = n_queued + (NEW.status IN ('scheduled', 'queued', 'sending')),
    n_sent = n_sent + (NEW.status = 'sent'),
    n_delivered = n_delivered + (NEW.status = 'delivered'),
    n_failed = n_failed + (NEW.status IN ('undeliverable', 'expired', 'rejected', 'failed')),
    n_canceled = n_canceled + (NEW.status = 'canceled')
  WHERE id = NEW.batch_id;
END;

CREATE TRIGGER campaign_msg_status AFTER UPDATE OF status ON messages
WHEN OLD.status <> NEW.status
BEGIN
  UPDATE campaigns SET
    n_queued = n_queued + (NEW.status IN ('scheduled', 'queued', 'sending'))
                        - (OLD.status IN ('scheduled', 'queued', 'sending')),
    n_sent = n_sent + (NEW.status = 'sent') - (OLD.status = 'sent'),
    n_delivered = n_delivered + (NEW.status = 'delivered') - (OLD.status = 'delivered'),
    n_failed = n_failed
      + (NEW.status IN ('undeliverable', 'expired', 'rejected', 'failed'))
      - (OLD.status IN ('undeliverable', 'expired', 'rejected', 'failed')),
    n_canceled = n_canceled + (NEW.status = 'canceled') - (OLD.status = 'canceled')
  WHERE id = NEW.batch_id;
END;
