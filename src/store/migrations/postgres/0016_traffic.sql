-- 0016_traffic.sql - as migrations/sqlite/0016_traffic.sql: traffic per
-- account and minute (messages by the minute they were created, in the
-- bucket of their current status; inbound messages by the minute they were
-- received), kept by triggers for GET /v1/stats/traffic.
CREATE TABLE traffic_minutes (
  account_id BIGINT NOT NULL,
  minute BIGINT NOT NULL,
  submitted BIGINT NOT NULL DEFAULT 0,
  queued BIGINT NOT NULL DEFAULT 0,
  sent BIGINT NOT NULL DEFAULT 0,
  delivered BIGINT NOT NULL DEFAULT 0,
  failed BIGINT NOT NULL DEFAULT 0,
  expired BIGINT NOT NULL DEFAULT 0,
  canceled BIGINT NOT NULL DEFAULT 0,
  inbound BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, minute)
);
CREATE INDEX traffic_minutes_minute ON traffic_minutes (minute);

CREATE FUNCTION traffic_bucket(st TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN st IN ('scheduled', 'queued', 'sending') THEN 'queued'
    WHEN st IN ('undeliverable', 'rejected', 'failed') THEN 'failed'
    WHEN st IN ('sent', 'delivered', 'expired', 'canceled') THEN st
    ELSE NULL END
$$;

INSERT INTO traffic_minutes (account_id, minute, submitted, queued, sent,
                             delivered, failed, expired, canceled)
SELECT account_id, created_ms / 60000, count(*),
       count(*) FILTER (WHERE traffic_bucket(status) = 'queued'),
       count(*) FILTER (WHERE status = 'sent'),
       count(*) FILTER (WHERE status = 'delivered'),
       count(*) FILTER (WHERE traffic_bucket(status) = 'failed'),
       count(*) FILTER (WHERE status = 'expired'),
       count(*) FILTER (WHERE status = 'canceled')
FROM messages GROUP BY 1, 2;
INSERT INTO traffic_minutes (account_id, minute, inbound)
SELECT account_id, received_ms / 60000, count(*) FROM inbound
WHERE account_id IS NOT NULL GROUP BY 1, 2
ON CONFLICT (account_id, minute) DO UPDATE SET inbound = excluded.inbound;

-- Moves a message from its old status's bucket (NULL: a new message) to
-- the new one's, in the minute it was created.
CREATE FUNCTION traffic_count() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  o TEXT := CASE WHEN TG_OP = 'UPDATE' THEN traffic_bucket(OLD.status) END;
  n TEXT := traffic_bucket(NEW.status);
  d BIGINT := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE 0 END;
BEGIN
  INSERT INTO traffic_minutes AS t (account_id, minute, submitted, queued, sent,
                                    delivered, failed, expired, canceled)
  VALUES (NEW.account_id, NEW.created_ms / 60000, d,
          (n IS NOT DISTINCT FROM 'queued')::int - (o IS NOT DISTINCT FROM 'queued')::int,
          (n IS NOT DISTINCT FROM 'sent')::int - (o IS NOT DISTINCT FROM 'sent')::int,
          (n IS NOT DISTINCT FROM 'delivered')::int - (o IS NOT DISTINCT FROM 'delivered')::int,
          (n IS NOT DISTINCT FROM 'failed')::int - (o IS NOT DISTINCT FROM 'failed')::int,
          (n IS NOT DISTINCT FROM 'expired')::int - (o IS NOT DISTINCT FROM 'expired')::int,
          (n IS NOT DISTINCT FROM 'canceled')::int - (o IS NOT DISTINCT FROM 'canceled')::int)
  ON CONFLICT (account_id, minute) DO UPDATE SET
    submitted = t.submitted + excluded.submitted,
    queued = t.queued + excluded.queued,
    sent = t.sent + excluded.sent,
    delivered = t.delivered + excluded.delivered,
    failed = t.failed + excluded.failed,
    expired = t.expired + excluded.expired,
    canceled = t.canceled + excluded.canceled;
  RETURN NULL;
END
$$;

CREATE FUNCTION traffic_inbound() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO traffic_minutes AS t (account_id, minute, inbound)
  VALUES (NEW.account_id, NEW.received_ms / 60000, 1)
  ON CONFLICT (account_id, minute) DO UPDATE SET inbound = t.inbound + 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER traffic_msg_insert AFTER INSERT ON messages
  FOR EACH ROW EXECUTE FUNCTION traffic_count();
CREATE TRIGGER traffic_msg_status AFTER UPDATE OF status ON messages
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION traffic_count();
CREATE TRIGGER traffic_inbound_insert AFTER INSERT ON inbound
  FOR EACH ROW WHEN (NEW.account_id IS NOT NULL)
  EXECUTE FUNCTION traffic_inbound();
