-- The X-Request-Id of the request that created a task, so its log lines
-- and the access log line of its creation can be found together. Empty
-- for tasks created before.
ALTER TABLE task ADD COLUMN request_id text NOT NULL DEFAULT '';
