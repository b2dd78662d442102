-- Lepus application tables (SQLite). Timestamps are integer unix microseconds;
-- JSON is stored as text.

CREATE TABLE task (
	id              TEXT PRIMARY KEY,
	user_id         TEXT NOT NULL,
	type            TEXT NOT NULL,
	status          TEXT NOT NULL,
	progress        INTEGER NOT NULL DEFAULT 0,
	step            TEXT NOT NULL DEFAULT '',
	input           TEXT,
	stages          TEXT NOT NULL DEFAULT '[]',
	notes           TEXT NOT NULL DEFAULT '[]',
	error           TEXT,
	cost            INTEGER NOT NULL DEFAULT 0,
	callback_token  TEXT NOT NULL DEFAULT '',
	idempotency_key TEXT NOT NULL DEFAULT '',
	request_hash    TEXT NOT NULL DEFAULT '',
	job_id          INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	started_at      INTEGER,
	finished_at     INTEGER
);
CREATE UNIQUE INDEX task_callback_token_key ON task (callback_token) WHERE callback_token <> '';
CREATE UNIQUE INDEX task_idempotency_key ON task (user_id, idempotency_key) WHERE idempotency_key <> '';
CREATE INDEX task_user_created_idx ON task (user_id, created_at DESC, id DESC);
CREATE INDEX task_created_idx ON task (created_at DESC, id DESC);
CREATE INDEX task_unfinished_idx ON task (created_at, id) WHERE status IN ('pending', 'processing');

CREATE TABLE asset (
	id           TEXT PRIMARY KEY,
	task_id      TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
	user_id      TEXT NOT NULL,
	stage        TEXT NOT NULL,
	idx          INTEGER NOT NULL,
	kind         TEXT NOT NULL,
	mime         TEXT NOT NULL DEFAULT '',
	bytes        INTEGER NOT NULL DEFAULT 0,
	width        INTEGER NOT NULL DEFAULT 0,
	height       INTEGER NOT NULL DEFAULT 0,
	duration_s   REAL NOT NULL DEFAULT 0,
	storage_key  TEXT NOT NULL DEFAULT '',
	provider_url TEXT NOT NULL DEFAULT '',
	provider_id  TEXT NOT NULL DEFAULT '',
	model        TEXT NOT NULL DEFAULT '',
	is_primary   INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	UNIQUE (task_id, stage, idx)
);
CREATE INDEX asset_user_idx ON asset (user_id);

CREATE TABLE upload (
	id          TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL,
	mime        TEXT NOT NULL DEFAULT '',
	bytes       INTEGER NOT NULL DEFAULT 0,
	width       INTEGER NOT NULL DEFAULT 0,
	height      INTEGER NOT NULL DEFAULT 0,
	storage_key TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL
);
CREATE INDEX upload_user_idx ON upload (user_id);

CREATE TABLE credit_account (
	user_id    TEXT PRIMARY KEY,
	balance    INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE credit_ledger (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    TEXT NOT NULL,
	task_id    TEXT,
	kind       TEXT NOT NULL,
	amount     INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX credit_ledger_task_kind_key ON credit_ledger (task_id, kind)
	WHERE task_id IS NOT NULL AND kind IN ('debit', 'refund');
CREATE INDEX credit_ledger_user_idx ON credit_ledger (user_id, created_at DESC, id DESC);

CREATE TABLE provider_pool (
	name TEXT PRIMARY KEY,
	used INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0)
);

CREATE TABLE provider_slot (
	holder      TEXT PRIMARY KEY,
	pool        TEXT NOT NULL,
	task_id     TEXT NOT NULL DEFAULT '',
	cost        INTEGER NOT NULL,
	acquired_at INTEGER NOT NULL
);
CREATE INDEX provider_slot_task_idx ON provider_slot (task_id);
