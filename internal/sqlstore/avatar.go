package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

const avatarColumns = `id, user_id, engine, source_image_urls, confirm_task_id, chosen_index, chosen_url,
	angle_tasks, created_at, updated_at`

// AvatarSave inserts a new avatar (CreatedAt zero) or updates one, but
// only if nobody saved it since it was read (its UpdatedAt unchanged):
// otherwise EConflict, and the caller reads it again.
func (s *Store) AvatarSave(ctx context.Context, a *lepus.Avatar) error {
	if a == nil || a.ID == "" || a.UserID == "" {
		return lepus.Errorf(lepus.EInvalid, "avatar needs an id and a user id")
	}
	if a.AngleTasks == nil {
		a.AngleTasks = map[string]string{}
	}
	urls, err := json.Marshal(append([]string{}, a.SourceImageURLs...))
	if err != nil {
		return fmt.Errorf("encode avatar: %w", err)
	}
	angles, err := json.Marshal(a.AngleTasks)
	if err != nil {
		return fmt.Errorf("encode avatar: %w", err)
	}
	now := s.clock()
	if a.CreatedAt.IsZero() {
		_, err = s.db.ExecContext(ctx, `INSERT INTO avatar (`+avatarColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
			a.ID, a.UserID, a.Engine, string(urls), a.ConfirmTaskID, a.ChosenIndex, a.ChosenURL, string(angles), s.d.ts(now))
		if err != nil {
			return mapErr(err, "create avatar", "avatar")
		}
		a.CreatedAt, a.UpdatedAt = now, now
		return nil
	}
	if !now.After(a.UpdatedAt) {
		now = a.UpdatedAt.Add(time.Microsecond) // every save moves UpdatedAt
	}
	res, err := s.db.ExecContext(ctx, `UPDATE avatar SET engine = $3, source_image_urls = $4, confirm_task_id = $5,
			chosen_index = $6, chosen_url = $7, angle_tasks = $8, updated_at = $9
		WHERE id = $1 AND updated_at = $2 AND deleted_at IS NULL`,
		a.ID, s.d.ts(a.UpdatedAt), a.Engine, string(urls), a.ConfirmTaskID, a.ChosenIndex, a.ChosenURL, string(angles), s.d.ts(now))
	if err != nil {
		return fmt.Errorf("update avatar: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return lepus.Errorf(lepus.EConflict, "avatar %s was changed meanwhile", a.ID)
	}
	a.UpdatedAt = now
	return nil
}

// AvatarGet returns an avatar that is not deleted.
func (s *Store) AvatarGet(ctx context.Context, id string) (*lepus.Avatar, error) {
	a, err := scanAvatar(s.db.QueryRowContext(ctx, `SELECT `+avatarColumns+` FROM avatar
		WHERE id = $1 AND deleted_at IS NULL`, id))
	if err != nil {
		return nil, mapErr(err, "get avatar", "avatar")
	}
	return a, nil
}

// AvatarList returns a user's avatars, newest first.
func (s *Store) AvatarList(ctx context.Context, userID string) ([]*lepus.Avatar, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+avatarColumns+` FROM avatar
		WHERE user_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 100`, userID)
	if err != nil {
		return nil, fmt.Errorf("list avatars: %w", err)
	}
	defer rows.Close()
	var out []*lepus.Avatar
	for rows.Next() {
		a, err := scanAvatar(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AvatarDelete marks an avatar deleted.
func (s *Store) AvatarDelete(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE avatar SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL`,
		id, s.d.ts(s.clock()))
	if err != nil {
		return fmt.Errorf("delete avatar: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return lepus.Errorf(lepus.ENotFound, "avatar %s not found", id)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scanAvatar(row scanner) (*lepus.Avatar, error) {
	var a lepus.Avatar
	var urls, angles string
	var chosen *int64
	if err := row.Scan(&a.ID, &a.UserID, &a.Engine, &urls, &a.ConfirmTaskID, &chosen, &a.ChosenURL, &angles,
		timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt}); err != nil {
		return nil, err
	}
	if chosen != nil {
		i := int(*chosen)
		a.ChosenIndex = &i
	}
	if err := json.Unmarshal([]byte(urls), &a.SourceImageURLs); err != nil {
		return nil, fmt.Errorf("decode avatar: %w", err)
	}
	if err := json.Unmarshal([]byte(angles), &a.AngleTasks); err != nil {
		return nil, fmt.Errorf("decode avatar: %w", err)
	}
	return &a, nil
}
