-- 0005_kannel_dlr.sql - Kannel dlr-url callbacks and per-message webhook
-- filters (see store/store.h "KANNEL DLR-URL").
--
-- A message sent through Kannel's sendsms keeps its dlr-url template and
-- dlr-mask; each status change whose Kannel report type is in the mask
-- queues a GET of the expanded URL in the webhooks table, method 'GET'.
-- webhook_statuses narrows the JSON webhooks of one message (a mask of
-- SG_MSG_BIT(status)); NULL keeps the store's default.

ALTER TABLE messages ADD COLUMN dlr_url TEXT;
ALTER TABLE messages ADD COLUMN dlr_mask INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN webhook_statuses INTEGER;
ALTER TABLE webhooks ADD COLUMN method TEXT NOT NULL DEFAULT 'POST';
