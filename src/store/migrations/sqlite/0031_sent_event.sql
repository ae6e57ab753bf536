-- 0031_sent_event.sql - the 'sent' event of a message of one part, when no
-- delivery refers to it, is a mark on its part instead of a row of
-- `events` (as 0030 made its 'sending' at its submit).
--
-- A part's SENT result moves a message of one part to 'sent': one row of
-- events held the part's 'sent' (the operator's id, the time) and the
-- message's, folded (0026). When no webhook asks for 'sent' (the message's
-- webhook_statuses, or the store's, and a callback URL) and no Kannel
-- dlr-mask asks for type 8, nothing refers to that row's id, and the part
-- says it instead: sent_event is the id of the newest event when it was
-- written (the reader shows the two events after the rows of its message up
-- to that id and before the later ones, with id 0), sent_ms its time, and
-- the operator's id is the part's, coalesce(smsc_raw, smsc_id), until the
-- operator's retry clears those: it copies it into sent_detail first.
-- NULL on every other part; the first SENT of a part only (a part sent
-- again after the operator's retry writes its row). Parts written before
-- have them NULL and their messages keep their rows. The number also makes
-- an older smsgate, which would show such a message without its 'sent',
-- refuse the file. No table is rewritten.
ALTER TABLE parts ADD COLUMN sent_event INTEGER;
ALTER TABLE parts ADD COLUMN sent_ms INTEGER;
ALTER TABLE parts ADD COLUMN sent_detail TEXT;
