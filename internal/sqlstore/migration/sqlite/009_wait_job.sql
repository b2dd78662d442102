-- Each wait keeps its task's job id (written once, when the task is
-- created), so the watcher's look reads provider_wait alone: joining task
-- for it cost one task read per wait per look, which at tens of thousands
-- in flight was most of the database's work.
ALTER TABLE provider_wait ADD COLUMN job_id bigint NOT NULL DEFAULT 0;
UPDATE provider_wait SET job_id = coalesce((SELECT t.job_id FROM task t WHERE t.id = provider_wait.task_id), 0);
