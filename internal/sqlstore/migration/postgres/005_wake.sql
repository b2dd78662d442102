-- Tasks waiting for a provider slot, in arrival order: a freed slot goes
-- to the longest-waiting task of its pool (FIFO), across processes.
ALTER TABLE provider_pool ADD COLUMN capacity integer NOT NULL DEFAULT 0;
CREATE TABLE slot_waiter (
	holder  text PRIMARY KEY,
	pool    text NOT NULL,
	task_id text NOT NULL,
	cost    integer NOT NULL,
	since   timestamptz NOT NULL,
	-- seen_at is the waiter's last ask: one not seen for minutes is gone
	-- (its job died) and keeps nobody waiting.
	seen_at timestamptz NOT NULL
);
CREATE INDEX slot_waiter_pool_idx ON slot_waiter (pool, since, holder);
CREATE INDEX slot_waiter_task_idx ON slot_waiter (task_id);

-- Processes that run jobs, with a heartbeat: a job held by a process whose
-- heartbeat lapsed is handed to a live one within seconds.
CREATE TABLE lepus_process (
	id           text PRIMARY KEY,
	host         text NOT NULL DEFAULT '',
	pid          integer NOT NULL DEFAULT 0,
	started_at   timestamptz NOT NULL,
	heartbeat_at timestamptz NOT NULL
);

-- Provider tasks being waited on, so one watcher per provider endpoint can
-- poll the provider's task list and wake only the tasks that ended.
CREATE TABLE provider_wait (
	provider         text NOT NULL,
	endpoint         text NOT NULL,
	provider_task_id text NOT NULL,
	task_id          text NOT NULL,
	stage            text NOT NULL,
	model            text NOT NULL DEFAULT '',
	submitted_at     timestamptz NOT NULL,
	PRIMARY KEY (provider, endpoint, provider_task_id)
);
CREATE INDEX provider_wait_task_idx ON provider_wait (task_id);
