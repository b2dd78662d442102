package sqlstore

import (
	"context"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

// UploadCreate records an upload under the caller's id; CreatedAt defaults to now.
// A second upload with the same id is EConflict.
func (s *Store) UploadCreate(ctx context.Context, u *lepus.Upload) error {
	if u == nil || u.ID == "" || u.UserID == "" {
		return lepus.Errorf(lepus.EInvalid, "upload needs an id and a user id")
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.clock()
	} else {
		u.CreatedAt = u.CreatedAt.UTC().Truncate(time.Microsecond)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO upload
		(id, user_id, kind, format, mime, bytes, width, height, duration_s, faces, storage_key, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		u.ID, u.UserID, u.Kind, u.Format, u.Mime, u.Bytes, u.Width, u.Height, u.DurationS, u.Faces, u.StorageKey, s.d.ts(u.CreatedAt))
	if err != nil {
		return mapErr(err, "create upload", "upload")
	}
	return nil
}

// UploadGet returns one upload.
func (s *Store) UploadGet(ctx context.Context, id string) (*lepus.Upload, error) {
	var u lepus.Upload
	err := s.db.QueryRowContext(ctx, `SELECT id, user_id, kind, format, mime, bytes, width, height, duration_s, faces, storage_key, created_at
		FROM upload WHERE id = $1`, id).
		Scan(&u.ID, &u.UserID, &u.Kind, &u.Format, &u.Mime, &u.Bytes, &u.Width, &u.Height, &u.DurationS, &u.Faces, &u.StorageKey, timeCol{&u.CreatedAt})
	if err != nil {
		return nil, mapErr(err, "get upload", "upload")
	}
	return &u, nil
}
