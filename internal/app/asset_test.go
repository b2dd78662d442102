package app_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/lepus-ai/lepus/internal/app"
	"github.com/lepus-ai/lepus/internal/app/apptest"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/media/synth"
	"github.com/lepus-ai/lepus/internal/workflow"
)

// addAsset records a as a result of a new task of ana's, with content
// stored (nil: kept at the provider only).
func addAsset(t *testing.T, b *apptest.Bundle, a lepus.Asset, content []byte) *lepus.Asset {
	t.Helper()
	ctx := context.Background()
	task, _, err := b.Service.CreateTask(ctx, textToVideo("ana", "", "a cat"))
	if err != nil {
		t.Fatal(err)
	}
	a.TaskID, a.UserID, a.Stage = task.ID, "ana", "video"
	if content != nil {
		a.StorageKey = "assets/" + task.ID
		if _, err := b.Service.Blob.Put(ctx, a.StorageKey, a.Mime, bytes.NewReader(content)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.Store.AssetUpsert(ctx, &a)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// An asset is its owner's only; one kept only at the provider has no content here.
func TestService_OpenAsset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := apptest.New(t)
	stored := addAsset(t, b, lepus.Asset{Kind: lepus.AssetVideo, Mime: "video/mp4"}, []byte("the video"))
	remote := addAsset(t, b, lepus.Asset{Kind: lepus.AssetVideo, Mime: "video/mp4", ProviderURL: "https://cdn.example/v.mp4"}, nil)

	_, rd, err := b.Service.OpenAsset(ctx, "ana", stored.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rd)
	rd.Close()
	if string(got) != "the video" {
		t.Fatalf("content %q", got)
	}
	_, _, err = b.Service.OpenAsset(ctx, "bob", stored.ID)
	wantError(t, err, lepus.ENotFound, "")
	_, _, err = b.Service.OpenAsset(ctx, "ana", remote.ID)
	if le := wantError(t, err, lepus.ENotFound, ""); !strings.Contains(le.Message, remote.ProviderURL) {
		t.Fatalf("message %q, want it to give the provider URL", le.Message)
	}
}

// A lip sync naming a video asset is rewritten to what Kling can use: its
// Kling video id when recent, else its provider URL (with a note).
func TestService_CreateTask_VideoAsset(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		asset         lepus.Asset
		user          string
		videoID, note string
		videoURL      string
		field         string // the refusal; "" for none
	}{
		{name: "OKKlingVideo", asset: lepus.Asset{Kind: lepus.AssetVideo, DurationS: 5, ProviderID: "kv_1", ProviderURL: "https://cdn.example/1.mp4"},
			user: "ana", videoID: "kv_1"},
		{name: "OKProviderURL", asset: lepus.Asset{Kind: lepus.AssetVideo, DurationS: 5, ProviderURL: "https://cdn.example/2.mp4"},
			user: "ana", videoURL: "https://cdn.example/2.mp4", note: "video_asset_id: sent as its provider URL"},
		{name: "ErrNotOwner", asset: lepus.Asset{Kind: lepus.AssetVideo, DurationS: 5, ProviderID: "kv_1"}, user: "bob", field: "body.video_asset_id"},
		{name: "ErrNotVideo", asset: lepus.Asset{Kind: lepus.AssetImage, ProviderURL: "https://cdn.example/3.png"}, user: "ana", field: "body.video_asset_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := apptest.New(t)
			a := addAsset(t, b, tc.asset, nil)
			task, _, err := b.Service.CreateTask(context.Background(), app.CreateTaskParams{UserID: tc.user, Type: "lip_sync",
				Request: &workflow.LipSyncRequest{AudioURL: b.ServeFile(synth.SineWAV(3, 16000)), VideoAssetID: a.ID}})
			if tc.field != "" {
				wantError(t, err, lepus.EInvalid, tc.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			in := input(t, task)
			if id, _ := in["kling_video_id"].(string); id != tc.videoID {
				t.Errorf("kling_video_id %q, want %q", id, tc.videoID)
			}
			if url, _ := in["video_url"].(string); url != tc.videoURL {
				t.Errorf("video_url %q, want %q", url, tc.videoURL)
			}
			got := strings.Join(task.Notes, "; ")
			if (tc.note == "" && got != "") || !strings.Contains(got, tc.note) {
				t.Errorf("notes %q, want %q", got, tc.note)
			}
		})
	}
}
