-- 0018_campaign_counts.sql - the twin of migrations/sqlite/0018: there the
-- campaign counters' triggers move into the SQLite writer's code. Here
-- campaign_count() (0015) keeps them: PL/pgSQL returns at once for a
-- message of no campaign, so the schema stays as it is.
SELECT 1;
