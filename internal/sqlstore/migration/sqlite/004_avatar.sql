-- Digital avatars. What their tasks made is read from the tasks.
CREATE TABLE avatar (
	id               text PRIMARY KEY,
	user_id          text NOT NULL,
	engine           text NOT NULL,
	source_image_urls TEXT NOT NULL,
	confirm_task_id  text NOT NULL DEFAULT '',
	chosen_index     integer,
	chosen_url       text NOT NULL DEFAULT '',
	angle_tasks      TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	deleted_at       INTEGER
);
CREATE INDEX avatar_user_idx ON avatar (user_id, created_at);
