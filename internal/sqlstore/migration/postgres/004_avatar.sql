-- Digital avatars. What their tasks made is read from the tasks.
CREATE TABLE avatar (
	id               text PRIMARY KEY,
	user_id          text NOT NULL,
	engine           text NOT NULL,
	source_image_urls json NOT NULL,
	confirm_task_id  text NOT NULL DEFAULT '',
	chosen_index     integer,
	chosen_url       text NOT NULL DEFAULT '',
	angle_tasks      json NOT NULL,
	created_at       timestamptz NOT NULL,
	updated_at       timestamptz NOT NULL,
	deleted_at       timestamptz
);
CREATE INDEX avatar_user_idx ON avatar (user_id, created_at);
