package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

const assetColumns = `id, task_id, user_id, stage, idx, kind, mime, bytes, width, height,
	duration_s, storage_key, provider_url, provider_id, model, is_primary, created_at`

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newAssetID returns "ast_" and 26 lowercase base32 characters (128 random bits).
func newAssetID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "ast_" + strings.ToLower(idEncoding.EncodeToString(b))
}

func scanAsset(r rowScanner) (*lepus.Asset, error) {
	var a lepus.Asset
	err := r.Scan(&a.ID, &a.TaskID, &a.UserID, &a.Stage, &a.Index, &a.Kind, &a.Mime, &a.Bytes,
		&a.Width, &a.Height, &a.DurationS, &a.StorageKey, &a.ProviderURL, &a.ProviderID,
		&a.Model, &a.Primary, timeCol{&a.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// AssetUpsert stores a under (TaskID, Stage, Index). A retried collect
// overwrites the row's content but keeps its id and creation time, so links
// already handed out stay valid.
func (s *Store) AssetUpsert(ctx context.Context, a *lepus.Asset) (*lepus.Asset, error) {
	if a == nil || a.TaskID == "" || a.Stage == "" || a.Index < 0 {
		return nil, lepus.Errorf(lepus.EInvalid, "asset needs a task id, a stage and an index >= 0")
	}
	out := *a
	if out.ID == "" {
		out.ID = newAssetID()
	}
	if out.CreatedAt.IsZero() {
		out.CreatedAt = s.clock()
	} else {
		out.CreatedAt = out.CreatedAt.UTC().Truncate(time.Microsecond)
	}
	if s.webhookHook != nil {
		// A new result is its task's webhook output event, recorded in the
		// same transaction.
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			inserted, err := upsertAsset(ctx, tx, s.d, &out)
			if err != nil || !inserted {
				return err
			}
			return s.emitOutput(ctx, tx, out.TaskID, out.ID)
		})
		if err != nil {
			return nil, mapErr(err, "upsert asset", "asset")
		}
		return &out, nil
	}
	if _, err := upsertAsset(ctx, s.db, s.d, &out); err != nil {
		return nil, mapErr(err, "upsert asset", "asset")
	}
	return &out, nil
}

// upsertAsset writes out, setting its ID and CreatedAt to the stored
// row's; inserted reports whether the row is new (its id is the one
// proposed).
func upsertAsset(ctx context.Context, q querier, d dialect, out *lepus.Asset) (inserted bool, err error) {
	proposed := out.ID
	row := q.QueryRowContext(ctx, `INSERT INTO asset (`+assetColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		ON CONFLICT (task_id, stage, idx) DO UPDATE SET
			user_id = excluded.user_id, kind = excluded.kind, mime = excluded.mime,
			bytes = excluded.bytes, width = excluded.width, height = excluded.height,
			duration_s = excluded.duration_s, storage_key = excluded.storage_key,
			provider_url = excluded.provider_url, provider_id = excluded.provider_id,
			model = excluded.model, is_primary = excluded.is_primary
		RETURNING id, created_at`,
		out.ID, out.TaskID, out.UserID, out.Stage, out.Index, out.Kind, out.Mime, out.Bytes,
		out.Width, out.Height, out.DurationS, out.StorageKey, out.ProviderURL, out.ProviderID,
		out.Model, out.Primary, d.ts(out.CreatedAt))
	if err := row.Scan(&out.ID, timeCol{&out.CreatedAt}); err != nil {
		return false, err
	}
	return out.ID == proposed, nil
}

// AssetGet returns one asset.
func (s *Store) AssetGet(ctx context.Context, id string) (*lepus.Asset, error) {
	a, err := scanAsset(s.db.QueryRowContext(ctx, `SELECT `+assetColumns+` FROM asset WHERE id = $1`, id))
	if err != nil {
		return nil, mapErr(err, "get asset", "asset")
	}
	return a, nil
}

// AssetGetByProviderID returns the user's newest asset whose provider id
// (a Kling video id) is providerID.
func (s *Store) AssetGetByProviderID(ctx context.Context, userID, providerID string) (*lepus.Asset, error) {
	a, err := scanAsset(s.db.QueryRowContext(ctx, `SELECT `+assetColumns+` FROM asset
		WHERE user_id = $1 AND provider_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1`, userID, providerID))
	if err != nil {
		return nil, mapErr(err, "get asset by provider id", "asset")
	}
	return a, nil
}

// attachAssets fills the Assets of tasks with one query, ordered by stage and index.
func attachAssets(ctx context.Context, q querier, tasks []*lepus.Task) error {
	if len(tasks) == 0 {
		return nil
	}
	var a args
	byID := make(map[string]*lepus.Task, len(tasks))
	marks := make([]string, 0, len(tasks))
	for _, t := range tasks {
		byID[t.ID] = t
		marks = append(marks, a.add(t.ID))
	}
	rows, err := q.QueryContext(ctx, `SELECT `+assetColumns+` FROM asset
		WHERE task_id IN (`+strings.Join(marks, ", ")+`) ORDER BY task_id, stage, idx`, a...)
	if err != nil {
		return fmt.Errorf("list assets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		as, err := scanAsset(rows)
		if err != nil {
			return fmt.Errorf("list assets: %w", err)
		}
		t := byID[as.TaskID]
		t.Assets = append(t.Assets, *as)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list assets: %w", err)
	}
	return attachWebhookAttempts(ctx, q, tasks)
}
