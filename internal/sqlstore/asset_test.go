package sqlstore_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/lepus"
)

func (su suite) testAsset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("UpsertKeepsID", func(t *testing.T) {
		t.Parallel()
		s, clock := su.open(t, 0)
		create(t, s, newTask("tsk_1", "u1"), 100)
		first, err := s.AssetUpsert(ctx, &lepus.Asset{TaskID: "tsk_1", UserID: "u1", Stage: "video", Index: 0,
			Kind: lepus.AssetVideo, Mime: "video/mp4", Bytes: 1234, Width: 720, Height: 1280, DurationS: 5.5,
			StorageKey: "k1", ProviderURL: "https://p/1.mp4", ProviderID: "v1", Model: "kling-v2", Primary: true})
		if err != nil {
			t.Fatalf("AssetUpsert: %v", err)
		}
		if !regexp.MustCompile(`^ast_[a-z2-7]{26}$`).MatchString(first.ID) {
			t.Fatalf("asset id = %q", first.ID)
		}
		got, err := s.AssetGet(ctx, first.ID)
		if err != nil {
			t.Fatalf("AssetGet: %v", err)
		}
		if *got != *first || !got.CreatedAt.Equal(us(t0)) {
			t.Fatalf("AssetGet = %+v, want %+v", got, first)
		}
		byProvider, err := s.AssetGetByProviderID(ctx, "u1", "v1")
		if err != nil || byProvider.ID != first.ID {
			t.Fatalf("AssetGetByProviderID = %+v, %v; want %s", byProvider, err, first.ID)
		}
		_, err = s.AssetGetByProviderID(ctx, "u2", "v1")
		wantCode(t, err, lepus.ENotFound) // another user's video is not found

		clock.Set(t0.Add(time.Hour))
		second, err := s.AssetUpsert(ctx, &lepus.Asset{TaskID: "tsk_1", UserID: "u1", Stage: "video", Index: 0,
			Kind: lepus.AssetVideo, Mime: "video/mp4", Bytes: 999, StorageKey: "k2"})
		if err != nil {
			t.Fatalf("second AssetUpsert: %v", err)
		}
		if second.ID != first.ID || !second.CreatedAt.Equal(first.CreatedAt) {
			t.Fatalf("second upsert id %s created %v, want %s %v", second.ID, second.CreatedAt, first.ID, first.CreatedAt)
		}
		got, _ = s.AssetGet(ctx, first.ID)
		if got.Bytes != 999 || got.StorageKey != "k2" || got.Primary || got.DurationS != 0 {
			t.Fatalf("asset not updated: %+v", got)
		}
		task, _ := s.TaskGet(ctx, "tsk_1")
		if len(task.Assets) != 1 {
			t.Fatalf("task has %d assets, want 1", len(task.Assets))
		}
	})

	t.Run("ErrMissingTask", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		_, err := s.AssetUpsert(ctx, &lepus.Asset{TaskID: "nope", UserID: "u1", Stage: "image", Kind: lepus.AssetImage})
		wantCode(t, err, lepus.EInvalid)
		_, err = s.AssetUpsert(ctx, &lepus.Asset{TaskID: "nope", Index: -1})
		wantCode(t, err, lepus.EInvalid)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s, _ := su.open(t, 0)
		_, err := s.AssetGet(ctx, "ast_missing")
		wantCode(t, err, lepus.ENotFound)
	})
}

func (su suite) testUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := su.open(t, 0)
	in := &lepus.Upload{ID: "upl_1", UserID: "u1", Kind: "video", Format: "mp4", Mime: "video/mp4", Bytes: 42, Width: 10, Height: 20, DurationS: 4.5, Faces: 1, StorageKey: "uploads/upl_1"}
	if err := s.UploadCreate(ctx, in); err != nil {
		t.Fatalf("UploadCreate: %v", err)
	}
	got, err := s.UploadGet(ctx, "upl_1")
	if err != nil {
		t.Fatalf("UploadGet: %v", err)
	}
	if *got != *in || !got.CreatedAt.Equal(us(t0)) {
		t.Fatalf("UploadGet = %+v, want %+v", got, in)
	}
	wantCode(t, s.UploadCreate(ctx, &lepus.Upload{ID: "upl_1", UserID: "u2"}), lepus.EConflict)
	_, err = s.UploadGet(ctx, "upl_2")
	wantCode(t, err, lepus.ENotFound)
}

func (su suite) testCredit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := su.open(t, time.Second)
	if b := balance(t, s, "u1", 25); b != 25 {
		t.Fatalf("balance without account = %d, want the grant 25", b)
	}
	create(t, s, newTask("tsk_1", "u1"), 25)
	create(t, s, newTask("tsk_2", "u1"), 999) // grant ignored: the account exists
	if b := balance(t, s, "u1", 999); b != 5 {
		t.Fatalf("balance = %d, want 5", b)
	}
	entries, err := s.CreditLedger(ctx, "u1", 0)
	if err != nil {
		t.Fatalf("CreditLedger: %v", err)
	}
	if len(entries) != 3 {
		t.Fatalf("ledger = %+v, want 3 entries", entries)
	}
	if e := entries[0]; e.TaskID != "tsk_2" || e.Kind != lepus.LedgerDebit || e.Amount != -10 || e.UserID != "u1" {
		t.Fatalf("newest entry = %+v", e)
	}
	if e := entries[2]; e.TaskID != "" || e.Kind != lepus.LedgerGrant || e.Amount != 25 {
		t.Fatalf("oldest entry = %+v", e)
	}
	if !entries[0].CreatedAt.After(entries[2].CreatedAt) {
		t.Fatalf("ledger not newest first: %v then %v", entries[0].CreatedAt, entries[2].CreatedAt)
	}
	if page, _ := s.CreditLedger(ctx, "u1", 1); len(page) != 1 || page[0].ID != entries[0].ID {
		t.Fatalf("limit 1 = %+v", page)
	}
}
