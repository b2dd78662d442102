package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// List limits.
const (
	defaultListLimit = 20
	maxListLimit     = 100
)

const taskColumns = `id, user_id, type, status, progress, step, input, stages, notes, error,
	cost, callback_token, idempotency_key, request_hash, job_id,
	created_at, updated_at, started_at, finished_at, webhook_url, webhook_events, request_id`

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func scanTask(r rowScanner) (*lepus.Task, error) {
	var (
		t                           lepus.Task
		status                      string
		input, stages, notes, errJS []byte
		webhookEvents               []byte
	)
	err := r.Scan(&t.ID, &t.UserID, &t.Type, &status, &t.Progress, &t.Step,
		&input, &stages, &notes, &errJS,
		&t.Cost, &t.CallbackToken, &t.IdempotencyKey, &t.RequestHash, &t.JobID,
		timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt}, nullTimeCol{&t.StartedAt}, nullTimeCol{&t.FinishedAt},
		&t.WebhookURL, &webhookEvents, &t.RequestID)
	if err != nil {
		return nil, err
	}
	t.Status = lepus.TaskStatus(status)
	if len(input) > 0 && string(input) != "null" {
		t.Input = json.RawMessage(input)
	}
	if err := unmarshalCol(stages, &t.Stages); err != nil {
		return nil, fmt.Errorf("task %s stages: %w", t.ID, err)
	}
	if err := unmarshalCol(notes, &t.Notes); err != nil {
		return nil, fmt.Errorf("task %s notes: %w", t.ID, err)
	}
	if err := unmarshalCol(errJS, &t.Error); err != nil {
		return nil, fmt.Errorf("task %s error: %w", t.ID, err)
	}
	if err := unmarshalCol(webhookEvents, &t.WebhookEvents); err != nil {
		return nil, fmt.Errorf("task %s webhook events: %w", t.ID, err)
	}
	return &t, nil
}

func unmarshalCol(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// getTask reads one task by a unique column (id or callback_token) with its assets.
func getTask(ctx context.Context, q querier, col, value string) (*lepus.Task, error) {
	t, err := scanTask(q.QueryRowContext(ctx,
		`SELECT `+taskColumns+` FROM task WHERE `+col+` = $1`, value))
	if err != nil {
		return nil, mapErr(err, "get task", "task")
	}
	if err := attachAssets(ctx, q, []*lepus.Task{t}); err != nil {
		return nil, err
	}
	return t, nil
}

// TaskGet returns a task with its assets ordered by stage and index.
func (s *Store) TaskGet(ctx context.Context, id string) (*lepus.Task, error) {
	return getTask(ctx, s.db, "id", id)
}

// TaskGetByCallbackToken finds the task a provider callback belongs to.
func (s *Store) TaskGetByCallbackToken(ctx context.Context, token string) (*lepus.Task, error) {
	if token == "" {
		return nil, lepus.Errorf(lepus.ENotFound, "task not found")
	}
	return getTask(ctx, s.db, "callback_token", token)
}

// TaskList returns tasks newest first. The cursor encodes the (created_at, id)
// of the last task of the previous page, so pages stay stable while new tasks
// arrive.
func (s *Store) TaskList(ctx context.Context, p *lepus.TaskListParams) ([]*lepus.Task, string, error) {
	if p == nil {
		p = &lepus.TaskListParams{}
	}
	limit := p.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)

	query, a, err := s.listQuery(p, limit)
	if err != nil {
		return nil, "", err
	}
	tasks, err := queryTasks(ctx, s.db, query, a...)
	if err != nil {
		return nil, "", fmt.Errorf("list tasks: %w", err)
	}
	var next string
	if len(tasks) > limit {
		tasks = tasks[:limit]
		last := tasks[limit-1]
		next = encodeCursor(last.CreatedAt, last.ID)
	}
	if err := attachAssets(ctx, s.db, tasks); err != nil {
		return nil, "", err
	}
	return tasks, next, nil
}

// listQuery builds TaskList's query for up to limit tasks (one more is
// read to know whether there is a next page).
func (s *Store) listQuery(p *lepus.TaskListParams, limit int) (string, args, error) {
	var a args
	var where []string
	if p.UserID != "" {
		where = append(where, "user_id = "+a.add(p.UserID))
	}
	if p.Status != "" {
		if !p.Status.Valid() {
			return "", nil, lepus.FieldErrorf("query.status", "unknown status %q", p.Status)
		}
		where = append(where, "status = "+a.add(string(p.Status)))
	}
	if p.Type != "" {
		where = append(where, "type = "+a.add(p.Type))
	}
	if p.IdempotencyKey != "" {
		// "<> ''" lets the partial unique index serve the lookup.
		where = append(where, "idempotency_key = "+a.add(p.IdempotencyKey), "idempotency_key <> ''")
	}
	if p.Cursor != "" {
		at, id, err := decodeCursor(p.Cursor)
		if err != nil {
			return "", nil, err
		}
		ts := a.add(s.d.ts(at))
		where = append(where, fmt.Sprintf("(created_at < %s OR (created_at = %s AND id < %s))", ts, ts, a.add(id)))
	}
	query := `SELECT ` + taskColumns + ` FROM task`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	if p.UserID != "" && p.IdempotencyKey != "" {
		// A user's key names at most one task: with no order or limit to
		// keep, the planner takes the key's unique index instead of walking
		// the user's tasks by date until one matches (all of them when
		// none does, as every new create's lookup does).
		return query, a, nil
	}
	return query + ` ORDER BY created_at DESC, id DESC LIMIT ` + a.add(limit+1), a, nil
}

// TaskListUnfinished returns pending and processing tasks, oldest first;
// limit defaults to 100.
func (s *Store) TaskListUnfinished(ctx context.Context, limit int) ([]*lepus.Task, error) {
	if limit <= 0 {
		limit = 100
	}
	tasks, err := queryTasks(ctx, s.db, `SELECT `+taskColumns+` FROM task
		WHERE status IN ('pending', 'processing') ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list unfinished tasks: %w", err)
	}
	if err := attachAssets(ctx, s.db, tasks); err != nil {
		return nil, err
	}
	return tasks, nil
}

func queryTasks(ctx context.Context, q querier, query string, args ...any) ([]*lepus.Task, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tasks []*lepus.Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, t)
	}
	return tasks, rows.Err()
}

func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + ":" + id))
}

func decodeCursor(c string) (time.Time, string, error) {
	bad := lepus.FieldErrorf("query.cursor", "invalid cursor")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", bad
	}
	micro, id, ok := strings.Cut(string(b), ":")
	us, err := strconv.ParseInt(micro, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", bad
	}
	return time.UnixMicro(us).UTC(), id, nil
}
