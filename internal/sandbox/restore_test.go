package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/provider/ark"
	"github.com/lepus-ai/lepus/internal/provider/kling"
	"github.com/lepus-ai/lepus/internal/provider/stability"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

// restartBundle is a bundle whose sandbox can be restarted on the same
// state dir and address: the server in front hands each request to the
// sandbox of the moment.
type restartBundle struct {
	*bundle
	cfg  sandbox.Config
	live atomic.Pointer[sandbox.Sandbox]
}

func setupRestart(t *testing.T, mutate func(*sandbox.Config)) *restartBundle {
	t.Helper()
	cfg := sandbox.Config{ImageLatency: 50 * time.Millisecond, VideoLatency: 50 * time.Millisecond, StateDir: t.TempDir()}
	if mutate != nil {
		mutate(&cfg)
	}
	rb := &restartBundle{cfg: cfg, bundle: &bundle{}}
	rb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rb.live.Load().ServeHTTP(w, r)
	}))
	rb.sb = sandbox.New(cfg)
	rb.live.Store(rb.sb)
	t.Cleanup(func() { rb.srv.Close(); rb.live.Load().Close() })
	rb.images = httptest.NewServer(http.HandlerFunc(serveTestImage))
	t.Cleanup(rb.images.Close)
	rb.files = newFileServer(t)
	rb.client = kling.NewClient(kling.Config{BaseURL: rb.srv.URL, AccessKey: "sandbox-ak", SecretKey: "sandbox-sk", HTTPClient: rb.srv.Client()})
	return rb
}

// restart stops the sandbox (its timers stop; nothing is flushed), waits
// down, and starts a new one on the same state dir.
func (rb *restartBundle) restart(down time.Duration) {
	rb.live.Load().Close()
	time.Sleep(down)
	rb.sb = sandbox.New(rb.cfg)
	rb.live.Store(rb.sb)
}

func (rb *restartBundle) get(t *testing.T, path, id string) *kling.Task {
	t.Helper()
	task, err := rb.client.Get(context.Background(), path, id)
	if err != nil {
		t.Fatalf("Get %s %s: %v", path, id, err)
	}
	return task
}

// wantCode requires err to be a Kling error with code.
func wantCode(t *testing.T, what string, err error, code int) {
	t.Helper()
	var apiErr *kling.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != code {
		t.Errorf("%s: %v, want code %d", what, err, code)
	}
}

// TestSandbox_RestartKling restarts the sandbox while a video task runs
// whose first frame is the CDN result of an image task made before.
func TestSandbox_RestartKling(t *testing.T) {
	t.Parallel()
	rb := setupRestart(t, func(c *sandbox.Config) {
		c.VideoLatency = 2 * time.Second
		c.VideoConcurrency = 1
	})
	ctx := context.Background()
	img := rb.succeed(t, kling.PathOmniImage, kling.OmniImageRequest{Prompt: "a fox", ExternalTaskID: "r-img"})
	imgURL := img.TaskResult.Images[0].URL
	png1 := download(t, imgURL, "image/png")
	vid := rb.create(t, kling.PathImage2Video, kling.Image2VideoRequest{ModelName: kling.ModelV1_6, Image: imgURL, ExternalTaskID: "r-vid"})

	rb.restart(0)

	running := rb.get(t, kling.PathImage2Video, vid.TaskID)
	if running.Done() || running.TaskInfo.ExternalTaskID != "r-vid" {
		t.Errorf("video task after restart = %+v, want still running", running)
	}
	st := rb.sb.Stats()
	if st.Tasks != 2 || st.Running != 1 || st.VideoSlotsInUse != 1 || st.ImageSlotsInUse != 0 ||
		st.Submissions["r-img"] != 1 || st.Submissions["r-vid"] != 1 {
		t.Errorf("stats after restart = %+v", st)
	}

	// Still strict: the cap counts the restored task, external ids stay
	// taken, unknown ids and other endpoints' ids are 1203.
	_, err := rb.client.Create(ctx, kling.PathText2Video, kling.Text2VideoRequest{Prompt: "x"})
	wantCode(t, "video over the cap", err, 1303)
	_, err = rb.client.Create(ctx, kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x", ExternalTaskID: "r-img"})
	wantCode(t, "duplicate external_task_id", err, 1201)
	_, err = rb.client.Get(ctx, kling.PathOmniImage, "123")
	wantCode(t, "unknown id", err, 1203)
	_, err = rb.client.Get(ctx, kling.PathOmniVideo, vid.TaskID)
	wantCode(t, "id of another endpoint", err, 1203)
	list, err := rb.client.List(ctx, kling.PathImage2Video, 1, 30)
	if err != nil || len(list) != 1 || list[0].TaskID != vid.TaskID {
		t.Errorf("image2video list = %+v, %v", list, err)
	}

	again := rb.get(t, kling.PathOmniImage, "r-img")
	// updated_at is now the end the latency sets, without the timer's
	// slack of the first run.
	if again.TaskID != img.TaskID || again.TaskStatus != kling.StatusSucceed || again.TaskResult.Images[0].URL != imgURL ||
		again.CreatedAt != img.CreatedAt || again.UpdatedAt != img.CreatedAt+50 {
		t.Errorf("image task after restart = %+v, was %+v", again, img)
	}
	if png2 := download(t, imgURL, "image/png"); !bytes.Equal(png1, png2) {
		t.Error("the image's CDN URL serves other bytes after the restart")
	}

	done := rb.wait(t, kling.PathImage2Video, vid.TaskID)
	if done.TaskStatus != kling.StatusSucceed {
		t.Fatalf("video task = %+v", done)
	}
	v, _ := rb.video(t, done, 5)
	next := rb.create(t, kling.PathOmniImage, kling.OmniImageRequest{Prompt: "y"})
	if n, _ := strconv.ParseUint(next.TaskID, 10, 64); next.TaskID <= vid.TaskID || n == 0 {
		t.Errorf("new task id %s, want past the restored %s", next.TaskID, vid.TaskID)
	}

	// The video is still usable by id after another restart.
	rb.restart(0)
	ext := rb.succeed(t, kling.PathVideoExtend, kling.VideoExtendRequest{VideoID: v.ID, ExternalTaskID: "r-ext"})
	if p := ext.TaskInfo.ParentVideo; p == nil || p.ID != v.ID || p.URL != v.URL {
		t.Errorf("parent_video = %+v, want %+v", p, v)
	}
	rb.video(t, ext, 10)
}

// TestSandbox_RestartEndedWhileDown restarts after the tasks' latency
// passed with no sandbox running: they have ended as they would have,
// including the ones made to fail.
func TestSandbox_RestartEndedWhileDown(t *testing.T) {
	t.Parallel()
	rb := setupRestart(t, func(c *sandbox.Config) { c.ImageLatency = 300 * time.Millisecond })
	rb.sb.FailTask("early", "risk control") // before the create
	for _, ext := range []string{"ok", "early", "late"} {
		rb.create(t, kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x", ExternalTaskID: ext})
	}
	rb.sb.FailTask("late", "internal failure") // while running
	ok := rb.get(t, kling.PathOmniImage, "ok")

	rb.restart(400 * time.Millisecond)

	for ext, msg := range map[string]string{"ok": "", "early": "risk control", "late": "internal failure"} {
		task := rb.get(t, kling.PathOmniImage, ext)
		want := kling.StatusSucceed
		if msg != "" {
			want = kling.StatusFailed
		}
		if task.TaskStatus != want || task.TaskStatusMsg != msg {
			t.Errorf("%s: %s %q, want %s %q", ext, task.TaskStatus, task.TaskStatusMsg, want, msg)
		}
	}
	done := rb.get(t, kling.PathOmniImage, "ok")
	if done.UpdatedAt != ok.CreatedAt+300 || len(done.TaskResult.Images) != 1 {
		t.Errorf("task ended while down: %+v, want ended at created_at + 300 ms with its image", done)
	}
	download(t, done.TaskResult.Images[0].URL, "image/png")
	if st := rb.sb.Stats(); st.Running != 0 || st.SlotsInUse != 0 || st.Tasks != 3 {
		t.Errorf("stats = %+v", st)
	}
}

// TestSandbox_RestartFacts restarts while tasks run whose specs came from
// fetched inputs and sandbox state (motion control's video length, lip
// sync's session, an extension's parent): they finish as they would have,
// and a session opened before the restart is still usable.
func TestSandbox_RestartFacts(t *testing.T) {
	t.Parallel()
	rb := setupRestart(t, nil)
	ctx := context.Background()
	parent := rb.succeed(t, kling.PathImage2Video, kling.Image2VideoRequest{ModelName: kling.ModelV1_6, Image: rb.host("p.png", mustPNG(t, portrait(480, 640)))})
	pv := parent.TaskResult.Videos[0]
	talk := rb.host("talk.mp4", mp4Of(t, portrait(640, 640), 4, 640))
	byURL, err := rb.client.IdentifyFace(ctx, kling.IdentifyFaceRequest{VideoURL: talk})
	if err != nil || len(byURL.FaceData) != 1 {
		t.Fatalf("identify-face: %+v, %v", byURL, err)
	}
	byID, err := rb.client.IdentifyFace(ctx, kling.IdentifyFaceRequest{VideoID: pv.ID})
	if err != nil || len(byID.FaceData) != 1 {
		t.Fatalf("identify-face by video_id: %+v, %v", byID, err)
	}
	voice := rb.host("voice.wav", wav(3, 8000, 1))
	lipSync := func(sess *kling.IdentifyFaceResult, ext string) kling.AdvancedLipSyncRequest {
		return kling.AdvancedLipSyncRequest{SessionID: sess.SessionID, ExternalTaskID: ext, FaceChoose: []kling.FaceChoose{{
			FaceID: sess.FaceData[0].FaceID, SoundFile: voice, SoundStartTime: 0, SoundEndTime: 2000, SoundInsertTime: 1000,
		}}}
	}

	rb.cfg.VideoLatency = time.Second // for the tasks below, made before the restart
	rb.restart(0)
	rb.cfg.VideoLatency = 50 * time.Millisecond
	motion := rb.create(t, kling.PathMotionControl, kling.MotionControlRequest{
		ImageURL: rb.img(480, 640, "jpg"), VideoURL: rb.host("dance.mp4", mp4Of(t, gradient(640, 640), 3.5, 640)),
		CharacterOrientation: kling.OrientationImage, Mode: kling.ModeStd,
	})
	ls := rb.create(t, kling.PathAdvancedLipSync, lipSync(byURL, "ls-url"))
	ext := rb.create(t, kling.PathVideoExtend, kling.VideoExtendRequest{VideoID: pv.ID})

	rb.restart(0)

	if task := rb.get(t, kling.PathMotionControl, motion.TaskID); task.Done() {
		t.Fatalf("motion control ended at once after the restart: %+v", task)
	}
	rb.video(t, rb.wait(t, kling.PathMotionControl, motion.TaskID), 3.5)
	lsDone := rb.wait(t, kling.PathAdvancedLipSync, ls.TaskID)
	if _, body := rb.video(t, lsDone, 4); mp4Tracks(t, body) != 2 {
		t.Error("lip sync after the restart has no audio track")
	}
	if p := lsDone.TaskInfo.ParentVideo; p == nil || p.URL != talk || p.Duration != "4" {
		t.Errorf("lip sync parent_video = %+v", p)
	}
	extDone := rb.wait(t, kling.PathVideoExtend, ext.TaskID)
	rb.video(t, extDone, 10)
	if p := extDone.TaskInfo.ParentVideo; p == nil || p.ID != pv.ID {
		t.Errorf("extension parent_video = %+v", p)
	}
	// The sessions outlive the restart, the one on a produced video too.
	download(t, byURL.FaceData[0].FaceImage, "image/png")
	again := rb.succeed(t, kling.PathAdvancedLipSync, lipSync(byID, "ls-id"))
	if p := again.TaskInfo.ParentVideo; p == nil || p.ID != pv.ID || p.Duration != "5" {
		t.Errorf("lip sync on a produced video: parent_video = %+v", p)
	}
	rb.video(t, again, 5)
	_, err = rb.client.Create(ctx, kling.PathAdvancedLipSync, kling.AdvancedLipSyncRequest{SessionID: "sess-unknown", FaceChoose: lipSync(byURL, "").FaceChoose})
	wantCode(t, "unknown session", err, 1201)
}

// TestSandbox_RestartArk keeps an Ark generation's URLs working, with the
// same bytes, after a restart.
func TestSandbox_RestartArk(t *testing.T) {
	t.Parallel()
	rb := setupRestart(t, func(c *sandbox.Config) { c.ArkLatency = 20 * time.Millisecond })
	c := ark.NewClient(ark.Config{BaseURL: rb.srv.URL + "/ark/api/v3", APIKey: arkKey, HTTPClient: rb.srv.Client()})
	face := rb.host("face.png", mustPNG(t, portrait(600, 800)))
	im, err := c.Generate(context.Background(), arkPortraitRequest(false, face))
	if err != nil || len(im.Succeeded()) != 4 {
		t.Fatalf("generate: %+v, %v", im, err)
	}
	before := download(t, im.Items[2].URL, "image/jpeg")
	rb.restart(0)
	if after := download(t, im.Items[2].URL, "image/jpeg"); !bytes.Equal(before, after) {
		t.Error("an Ark URL serves other bytes after the restart")
	}
	missing := strings.Replace(im.Items[0].URL, "/0.jpeg", "/9.jpeg", 1)
	if resp, err := http.Get(missing); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("an image never made: %v %v, want 404", resp, err)
	}
}

// TestSandbox_RestartRelight keeps a Stability generation, for its key
// only, across a restart.
func TestSandbox_RestartRelight(t *testing.T) {
	t.Parallel()
	clock := &relightClock{now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	rb := setupRestart(t, func(c *sandbox.Config) {
		c.Now = clock.Now
		c.StabilityExtraKeys = []string{relightOtherKey}
	})
	client := relightClient(rb.srv, relightKey)
	ctx := context.Background()
	id, err := client.Start(ctx, &stability.RelightRequest{SubjectImage: relightSubject(), BackgroundPrompt: "studio", Seed: ptr(int64(7))})
	if err != nil {
		t.Fatal(err)
	}
	rb.restart(0)
	if _, err := client.Result(ctx, id); !errors.Is(err, stability.ErrInProgress) {
		t.Fatalf("poll after the restart: %v, want in progress", err)
	}
	clock.advance(10 * time.Second)
	res, _ := fetchRelight(t, client, id)
	if res.Seed != 7 || res.FinishReason != stability.FinishSuccess {
		t.Errorf("result after the restart = %+v", res)
	}
	var apiErr *stability.APIError
	if _, err := relightClient(rb.srv, relightOtherKey).Result(ctx, id); !errors.As(err, &apiErr) || !apiErr.NotFound() {
		t.Errorf("another key's poll: %v, want 404", err)
	}
	if _, err := client.Result(ctx, strings.Repeat("0", 64)); !errors.As(err, &apiErr) || !apiErr.NotFound() {
		t.Errorf("unknown id: %v, want 404", err)
	}
	// Past the 24 h, the restart forgets it.
	clock.advance(25 * time.Hour)
	rb.restart(0)
	if _, err := client.Result(ctx, id); !errors.As(err, &apiErr) || !apiErr.NotFound() {
		t.Errorf("expired: %v, want 404", err)
	}
}

// TestSandbox_RestartBadRecords starts on a state dir holding a broken
// record and a temporary file left by a stop in the middle of a save: the
// sandbox starts, the broken task is unknown, the leftover is removed.
func TestSandbox_RestartBadRecords(t *testing.T) {
	t.Parallel()
	rb := setupRestart(t, nil)
	task := rb.succeed(t, kling.PathOmniImage, kling.OmniImageRequest{Prompt: "x"})
	tasks := filepath.Join(rb.cfg.StateDir, "tasks")
	leftover := filepath.Join(tasks, ".17.123.tmp")
	for name, data := range map[string]string{"17.json": "{not json", ".17.123.tmp": "{"} {
		if err := os.WriteFile(filepath.Join(tasks, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rb.restart(0)
	_, err := rb.client.Get(context.Background(), kling.PathOmniImage, "17")
	wantCode(t, "broken record", err, 1203)
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover temporary file: %v, want removed", err)
	}
	if got := rb.get(t, kling.PathOmniImage, task.TaskID); got.TaskStatus != kling.StatusSucceed {
		t.Errorf("good task = %+v", got)
	}
	resp, err := http.Get(rb.srv.URL + "/sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"tasks":1`) {
		t.Errorf("stats = %s, want 1 task", body)
	}
}
