package sandbox

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/media/synth"
	"github.com/lepus-ai/lepus/internal/provider/kling"
)

// These tests reach into the sandbox's memory of videos and sessions to
// age them or give them lengths that would take minutes of real tasks to
// build, then drive the API over HTTP as a client would.

type stateBundle struct {
	sb     *Sandbox
	client *kling.Client
}

func setupState(t *testing.T) *stateBundle {
	t.Helper()
	sb := New(Config{ImageLatency: 20 * time.Millisecond, VideoLatency: 20 * time.Millisecond})
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	c := kling.NewClient(kling.Config{BaseURL: srv.URL, AccessKey: "sandbox-ak", SecretKey: "sandbox-sk"})
	return &stateBundle{sb: sb, client: c}
}

// produce makes a text2video of model and returns its video record.
func (b *stateBundle) produce(t *testing.T, model string) *videoRecord {
	t.Helper()
	ctx := context.Background()
	task, err := b.client.Create(ctx, kling.PathText2Video, kling.Text2VideoRequest{ModelName: model, Prompt: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for !task.Done() {
		time.Sleep(5 * time.Millisecond)
		if task, err = b.client.Get(ctx, kling.PathText2Video, task.TaskID); err != nil {
			t.Fatal(err)
		}
	}
	b.sb.mu.Lock()
	defer b.sb.mu.Unlock()
	rec := b.sb.videos[task.TaskResult.Videos[0].ID]
	if rec == nil || rec.model != model || rec.seconds != 5 {
		t.Fatalf("video record = %+v, want a 5 s %s video", rec, model)
	}
	return rec
}

// edit changes a record or session under the sandbox lock.
func (b *stateBundle) edit(f func()) {
	b.sb.mu.Lock()
	defer b.sb.mu.Unlock()
	f()
}

func wantInvalid(t *testing.T, err error, msg string) {
	t.Helper()
	var apiErr *kling.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 1201 || !strings.Contains(apiErr.Message, msg) {
		t.Errorf("err = %v, want 1201 containing %q", err, msg)
	}
}

func TestVideoRules(t *testing.T) {
	t.Parallel()
	b := setupState(t)
	ctx := context.Background()

	old := b.produce(t, "kling-v1")
	b.edit(func() { old.createdAt = old.createdAt.Add(-31 * 24 * time.Hour) })
	_, err := b.client.Create(ctx, kling.PathVideoExtend, kling.VideoExtendRequest{VideoID: old.id})
	wantInvalid(t, err, "has expired: videos can be used for 30 days")
	_, err = b.client.IdentifyFace(ctx, kling.IdentifyFaceRequest{VideoID: old.id})
	wantInvalid(t, err, "has expired")

	long := b.produce(t, "kling-v1-6")
	b.edit(func() { long.seconds = 176 })
	_, err = b.client.Create(ctx, kling.PathVideoExtend, kling.VideoExtendRequest{VideoID: long.id})
	wantInvalid(t, err, "181 s would pass the 180 s limit")
	b.edit(func() { long.seconds = 175 })
	if _, err := b.client.Create(ctx, kling.PathVideoExtend, kling.VideoExtendRequest{VideoID: long.id}); err != nil {
		t.Errorf("extend to exactly 180 s: %v", err)
	}

	b.edit(func() { long.seconds = 61 })
	_, err = b.client.IdentifyFace(ctx, kling.IdentifyFaceRequest{VideoID: long.id})
	wantInvalid(t, err, "video is 61 s long; it must be at most 60 s")
}

func TestSessionRules(t *testing.T) {
	t.Parallel()
	b := setupState(t)
	ctx := context.Background()
	rec := b.produce(t, "kling-v2-6")
	res, err := b.client.IdentifyFace(ctx, kling.IdentifyFaceRequest{VideoID: rec.id})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.FaceData) != 0 {
		t.Fatalf("a prompt-drawn canvas has faces: %+v", res.FaceData)
	}
	// Give the session a face visible only from 3.5 s on.
	b.edit(func() {
		b.sb.sessions[res.SessionID].faces = []sessionFace{{start: 3500, end: 5000}}
	})
	sound := base64.StdEncoding.EncodeToString(synth.SineWAV(3, 8000))
	lip := func(insert int64) error {
		_, err := b.client.Create(ctx, kling.PathAdvancedLipSync, kling.AdvancedLipSyncRequest{
			SessionID: res.SessionID,
			FaceChoose: []kling.FaceChoose{{FaceID: "0", SoundFile: sound,
				SoundStartTime: 0, SoundEndTime: 2500, SoundInsertTime: insert}},
		})
		return err
	}
	wantInvalid(t, lip(0), "must overlap the face's window (3500–5000 ms) by at least 2000 ms")
	if err := lip(2500); err == nil {
		t.Error("overlap of 1500 ms accepted")
	}
	b.edit(func() { b.sb.sessions[res.SessionID].faces[0].start = 500 })
	if err := lip(2500); err != nil {
		t.Errorf("overlap of 2000 ms: %v", err)
	}

	b.edit(func() { b.sb.sessions[res.SessionID].createdAt = time.Now().Add(-25 * time.Hour) })
	wantInvalid(t, lip(0), "does not exist or has expired")
	// A new identify-face sweeps the expired session away.
	if _, err := b.client.IdentifyFace(ctx, kling.IdentifyFaceRequest{VideoID: rec.id}); err != nil {
		t.Fatal(err)
	}
	b.edit(func() {
		if b.sb.sessions[res.SessionID] != nil {
			t.Error("expired session kept")
		}
	})
}
