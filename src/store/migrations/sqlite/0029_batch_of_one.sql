-- 0029_batch_of_one.sql - messages_batch leaves out a batch of one.
--
-- A request that stores one message (a POST to one number, a Kannel
-- sendsms, an SMPP submit_sm) names its batch by the message's own id
-- (src/engine/submit.c), so that the batch is found by the table's key
-- and needs no entry of its own: an entry a message in a B-tree whose
-- keys are text (1.5 log frames a commit). The list of a batch reads both
-- (src/store/sqlite_read.c, list_stmt). Rows written before keep their
-- entries (their batch id is never their id). The index is built anew
-- from the table (1.2-2.5 s more at the start of a file of a million
-- messages); no table is rewritten.
DROP INDEX messages_batch;
CREATE INDEX messages_batch ON messages(batch_id, id) WHERE batch_id <> id;
