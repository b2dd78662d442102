-- Tasks waiting for a provider slot, in arrival order: a freed slot goes
-- to the longest-waiting task of its pool (FIFO), across processes.
ALTER TABLE provider_pool ADD COLUMN capacity INTEGER NOT NULL DEFAULT 0;
CREATE TABLE slot_waiter (
	holder  TEXT PRIMARY KEY,
	pool    TEXT NOT NULL,
	task_id TEXT NOT NULL,
	cost    INTEGER NOT NULL,
	since   INTEGER NOT NULL,
	-- seen_at is the waiter's last ask: one not seen for minutes is gone
	-- (its job died) and keeps nobody waiting.
	seen_at INTEGER NOT NULL
);
CREATE INDEX slot_waiter_pool_idx ON slot_waiter (pool, since, holder);
CREATE INDEX slot_waiter_task_idx ON slot_waiter (task_id);

-- Processes that run jobs, with a heartbeat: a job held by a process whose
-- heartbeat lapsed is handed to a live one within seconds.
CREATE TABLE lepus_process (
	id           TEXT PRIMARY KEY,
	host         TEXT NOT NULL DEFAULT '',
	pid          INTEGER NOT NULL DEFAULT 0,
	started_at   INTEGER NOT NULL,
	heartbeat_at INTEGER NOT NULL
);

-- Provider tasks being waited on, so one watcher per provider endpoint can
-- poll the provider's task list and wake only the tasks that ended.
CREATE TABLE provider_wait (
	provider         TEXT NOT NULL,
	endpoint         TEXT NOT NULL,
	provider_task_id TEXT NOT NULL,
	task_id          TEXT NOT NULL,
	stage            TEXT NOT NULL,
	model            TEXT NOT NULL DEFAULT '',
	submitted_at     INTEGER NOT NULL,
	PRIMARY KEY (provider, endpoint, provider_task_id)
);
CREATE INDEX provider_wait_task_idx ON provider_wait (task_id);
