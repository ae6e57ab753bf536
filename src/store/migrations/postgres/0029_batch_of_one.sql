-- 0029_batch_of_one.sql - the SQLite store's messages_batch leaves out a
-- message whose batch id is its own id (migrations/sqlite/0029); here every
-- message keeps its entry, and a batch's list is the same either way.
SELECT 1;
