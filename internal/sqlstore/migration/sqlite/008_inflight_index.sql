-- The per-user count of tasks in flight (inflight.go) reads only the
-- user's pending and processing tasks. The predicate must stay exactly the
-- one the count query uses, or the planner cannot prove the index covers it.
CREATE INDEX task_inflight_idx ON task (user_id) WHERE status IN ('pending', 'processing');
