-- 0025_traffic_deferred.sql - the store's writer adds its transaction's
-- changes to traffic_minutes at the end of the transaction, in one statement
-- and in key order, instead of one row at a time as the messages change.
-- The rows of traffic_minutes were locked in the order the messages of a
-- transaction changed, so two nodes' writers changing messages of the same
-- account and minutes in different orders deadlocked on them. A session
-- that sets smsgate.traffic_defer = 'on' (the writer, which also makes the
-- temporary table traffic_pending, ON COMMIT DELETE ROWS) has the
-- triggers write their changes there; any other session (an operator's
-- psql, an older smsgate) still updates traffic_minutes at once.
CREATE OR REPLACE FUNCTION traffic_count() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  o TEXT := CASE WHEN TG_OP = 'UPDATE' THEN traffic_bucket(OLD.status) END;
  n TEXT := traffic_bucket(NEW.status);
  d BIGINT := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE 0 END;
BEGIN
  IF current_setting('smsgate.traffic_defer', true) = 'on' THEN
    INSERT INTO traffic_pending (account_id, minute, submitted, queued, sent,
                                 delivered, failed, expired, canceled)
    VALUES (NEW.account_id, NEW.created_ms / 60000, d,
            (n IS NOT DISTINCT FROM 'queued')::int - (o IS NOT DISTINCT FROM 'queued')::int,
            (n IS NOT DISTINCT FROM 'sent')::int - (o IS NOT DISTINCT FROM 'sent')::int,
            (n IS NOT DISTINCT FROM 'delivered')::int - (o IS NOT DISTINCT FROM 'delivered')::int,
            (n IS NOT DISTINCT FROM 'failed')::int - (o IS NOT DISTINCT FROM 'failed')::int,
            (n IS NOT DISTINCT FROM 'expired')::int - (o IS NOT DISTINCT FROM 'expired')::int,
            (n IS NOT DISTINCT FROM 'canceled')::int - (o IS NOT DISTINCT FROM 'canceled')::int);
    RETURN NULL;
  END IF;
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

CREATE OR REPLACE FUNCTION traffic_inbound() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('smsgate.traffic_defer', true) = 'on' THEN
    INSERT INTO traffic_pending (account_id, minute, inbound)
    VALUES (NEW.account_id, NEW.received_ms / 60000, 1);
    RETURN NULL;
  END IF;
  INSERT INTO traffic_minutes AS t (account_id, minute, inbound)
  VALUES (NEW.account_id, NEW.received_ms / 60000, 1)
  ON CONFLICT (account_id, minute) DO UPDATE SET inbound = t.inbound + 1;
  RETURN NULL;
END
$$;
