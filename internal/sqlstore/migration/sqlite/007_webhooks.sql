-- Webhooks: a task's webhook URL and event filter, each user's signing
-- secret, and every delivery attempt (shown on the task).
ALTER TABLE task ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
ALTER TABLE task ADD COLUMN webhook_events TEXT NOT NULL DEFAULT '[]';

CREATE TABLE webhook_secret (
	user_id    TEXT PRIMARY KEY,
	secret     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE webhook_attempt (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	task_id     TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	message_id  TEXT NOT NULL,
	event       TEXT NOT NULL,
	attempt     INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	duration_us INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempt_task_idx ON webhook_attempt (task_id, id);
