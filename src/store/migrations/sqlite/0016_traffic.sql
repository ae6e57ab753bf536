-- 0016_traffic.sql - traffic per account and minute, for the charts of
-- GET /v1/stats/traffic: a message counts in the minute it was created
-- (created_ms / 60000), in `submitted` and in the bucket of its current
-- status; a status change moves it between buckets of that same minute. An
-- inbound message counts in the minute it was received. Kept by triggers,
-- so a read sums at most one row per account and minute of its range
-- instead of reading the messages.
CREATE TABLE traffic_minutes (
  account_id INTEGER NOT NULL,
  minute INTEGER NOT NULL,
  submitted INTEGER NOT NULL DEFAULT 0,
  queued INTEGER NOT NULL DEFAULT 0,     -- scheduled, queued, sending
  sent INTEGER NOT NULL DEFAULT 0,       -- sent, no receipt yet
  delivered INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,     -- undeliverable, rejected, failed
  expired INTEGER NOT NULL DEFAULT 0,
  canceled INTEGER NOT NULL DEFAULT 0,
  inbound INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, minute)
) WITHOUT ROWID;
CREATE INDEX traffic_minutes_minute ON traffic_minutes (minute);

-- The messages and inbound messages stored before this migration.
INSERT INTO traffic_minutes (account_id, minute, submitted, queued, sent,
                             delivered, failed, expired, canceled)
SELECT account_id, created_ms / 60000, count(*),
       sum(status IN ('scheduled', 'queued', 'sending')),
       sum(status = 'sent'), sum(status = 'delivered'),
       sum(status IN ('undeliverable', 'rejected', 'failed')),
       sum(status = 'expired'), sum(status = 'canceled')
FROM messages GROUP BY 1, 2;
INSERT INTO traffic_minutes (account_id, minute, inbound)
SELECT account_id, received_ms / 60000, count(*) FROM inbound
WHERE account_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
ON CONFLICT (account_id, minute) DO UPDATE SET inbound = excluded.inbound;

CREATE TRIGGER traffic_msg_insert AFTER INSERT ON messages
BEGIN
  INSERT INTO traffic_minutes (account_id, minute, submitted, queued, sent,
                               delivered, failed, expired, canceled)
  VALUES (NEW.account_id, NEW.created_ms / 60000, 1,
          NEW.status IN ('scheduled', 'queued', 'sending'),
          NEW.status = 'sent', NEW.status = 'delivered',
          NEW.status IN ('undeliverable', 'rejected', 'failed'),
          NEW.status = 'expired', NEW.status = 'canceled')
  ON CONFLICT (account_id, minute) DO UPDATE SET
    submitted = submitted + 1,
    queued = queued + excluded.queued,
    sent = sent + excluded.sent,
    delivered = delivered + excluded.delivered,
    failed = failed + excluded.failed,
    expired = expired + excluded.expired,
    canceled = canceled + excluded.canceled;
END;

-- Fires only when the message changes bucket: queued -> sending (both
-- `queued`) is most status changes' first step and costs nothing here.
CREATE TRIGGER traffic_msg_status AFTER UPDATE OF status ON messages
WHEN OLD.status <> NEW.status
  AND NOT (OLD.status IN ('scheduled', 'queued', 'sending')
           AND NEW.status IN ('scheduled', 'queued', 'sending'))
  AND NOT (OLD.status IN ('undeliverable', 'rejected', 'failed')
           AND NEW.status IN ('undeliverable', 'rejected', 'failed'))
BEGIN
  UPDATE traffic_minutes SET
    queued = queued + (NEW.status IN ('scheduled', 'queued', 'sending'))
                    - (OLD.status IN ('scheduled', 'queued', 'sending')),
    sent = sent + (NEW.status = 'sent') - (OLD.status = 'sent'),
    delivered = delivered + (NEW.status = 'delivered') - (OLD.status = 'delivered'),
    failed = failed + (NEW.status IN ('undeliverable', 'rejected', 'failed'))
                    - (OLD.status IN ('undeliverable', 'rejected', 'failed')),
    expired = expired + (NEW.status = 'expired') - (OLD.status = 'expired'),
    canceled = canceled + (NEW.status = 'canceled') - (OLD.status = 'canceled')
  WHERE account_id = NEW.account_id AND minute = NEW.created_ms / 60000;
END;

CREATE TRIGGER traffic_inbound_insert AFTER INSERT ON inbound
WHEN NEW.account_id IS NOT NULL
BEGIN
  INSERT INTO traffic_minutes (account_id, minute, inbound)
  VALUES (NEW.account_id, NEW.received_ms / 60000, 1)
  ON CONFLICT (account_id, minute) DO UPDATE SET inbound = inbound + 1;
END;
