package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Kling's task statuses.
const (
	statusSubmitted  = "submitted"
	statusProcessing = "processing"
	statusSucceed    = "succeed"
	statusFailed     = "failed"
)

// callbackTimeout bounds one callback POST; callbacks are fire-and-forget.
const callbackTimeout = 5 * time.Second

// task is one accepted task. Fields after spec are guarded by Sandbox.mu.
type task struct {
	id      string
	ep      *endpoint
	spec    *spec
	baseURL string // result URL base, without trailing slash
	latency time.Duration

	status    string
	msg       string
	failMsg   string // when set, the task ends failed with it
	createdAt int64
	updatedAt int64
	timer     *time.Timer

	cbQueue [][]byte // callback bodies not yet posted, in order
	cbBusy  bool     // a goroutine is draining cbQueue
}

func (t *task) ended() bool { return t.status == statusSucceed || t.status == statusFailed }

// processingAfter is when a submitted task starts processing: a tenth of its
// latency, at most a second.
func processingAfter(latency time.Duration) time.Duration {
	return min(latency/10, time.Second)
}

// startLocked schedules the task's lifecycle. Caller holds s.mu.
func (s *Sandbox) startLocked(t *task) {
	t.timer = time.AfterFunc(processingAfter(t.latency), func() { s.toProcessing(t) })
}

func (s *Sandbox) toProcessing(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || t.status != statusSubmitted {
		return
	}
	t.status = statusProcessing
	t.updatedAt = s.cfg.Now().UnixMilli()
	s.callbackLocked(t)
	t.timer = time.AfterFunc(t.latency-processingAfter(t.latency), func() { s.finish(t) })
}

func (s *Sandbox) finish(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || t.ended() {
		return
	}
	s.finishLocked(t, t.failMsg)
}

// finishLocked ends the task: failed with msg, or succeed when msg is
// empty. It frees the task's slots. Caller holds s.mu.
func (s *Sandbox) finishLocked(t *task, msg string) {
	t.updatedAt = s.cfg.Now().UnixMilli()
	if msg != "" {
		t.status, t.msg = statusFailed, msg
		s.stats.Failed++
	} else {
		t.status = statusSucceed
		s.stats.Succeeded++
		s.recordVideosLocked(t)
	}
	t.timer = nil
	s.slots[t.ep.pool()] -= t.spec.cost
	s.running--
	s.callbackLocked(t)
	s.log.Debug("sandbox: task ended", "task_id", t.id, "status", t.status)
}

// Wire shapes of a task, as Kling sends them.
type (
	taskView struct {
		TaskID             string         `json:"task_id"`
		TaskStatus         string         `json:"task_status"`
		TaskStatusMsg      string         `json:"task_status_msg"`
		TaskInfo           taskInfoView   `json:"task_info"`
		TaskResult         *resultView    `json:"task_result,omitempty"`
		WatermarkInfo      *watermarkView `json:"watermark_info,omitempty"`
		FinalUnitDeduction string         `json:"final_unit_deduction,omitempty"`
		CreatedAt          int64          `json:"created_at"`
		UpdatedAt          int64          `json:"updated_at"`
	}
	taskInfoView struct {
		ExternalTaskID string     `json:"external_task_id,omitempty"`
		ParentVideo    *videoView `json:"parent_video,omitempty"`
	}
	resultView struct {
		Images       []imageView `json:"images,omitempty"`
		SeriesImages []imageView `json:"series_images,omitempty"`
		Videos       []videoView `json:"videos,omitempty"`
	}
	imageView struct {
		Index        int    `json:"index"`
		URL          string `json:"url"`
		WatermarkURL string `json:"watermark_url,omitempty"`
	}
	videoView struct {
		ID           string `json:"id"`
		URL          string `json:"url"`
		Duration     string `json:"duration"`
		WatermarkURL string `json:"watermark_url,omitempty"`
	}
	watermarkView struct {
		Enabled bool `json:"enabled"`
	}
)

// resultURL is the CDN URL of output i of t.
func resultURL(t *task, i int) string {
	return fmt.Sprintf("%s/sandbox/cdn/%s/%d.%s", t.baseURL, t.id, i, t.spec.outputs[i].ext)
}

// videoID is the id of video output i of t, as video-extend and
// identify-face take it.
func videoID(t *task, i int) string { return fmt.Sprintf("%s-%d", t.id, i) }

// viewLocked renders t as Kling would. Caller holds s.mu.
func (s *Sandbox) viewLocked(t *task) taskView {
	v := taskView{
		TaskID:        t.id,
		TaskStatus:    t.status,
		TaskStatusMsg: t.msg,
		TaskInfo:      taskInfoView{ExternalTaskID: t.spec.externalID, ParentVideo: t.spec.parent},
		CreatedAt:     t.createdAt,
		UpdatedAt:     t.updatedAt,
	}
	if t.spec.watermark {
		v.WatermarkInfo = &watermarkView{Enabled: true}
	}
	if t.ended() {
		v.FinalUnitDeduction = strconv.Itoa(t.spec.cost)
	}
	if t.status != statusSucceed {
		return v
	}
	res := &resultView{}
	for i, o := range t.spec.outputs {
		u := resultURL(t, i)
		wm := ""
		if t.spec.watermark {
			wm = u // the sandbox adds no watermark; the URL is only echoed
		}
		switch {
		case o.ext == "mp4":
			res.Videos = append(res.Videos, videoView{ID: videoID(t, i), URL: u, Duration: o.duration, WatermarkURL: wm})
		case o.series:
			res.SeriesImages = append(res.SeriesImages, imageView{Index: i, URL: u, WatermarkURL: wm})
		default:
			res.Images = append(res.Images, imageView{Index: i, URL: u, WatermarkURL: wm})
		}
	}
	v.TaskResult = res
	return v
}

// callbackLocked queues the bare task object for the task's callback_url.
// One goroutine per task drains the queue so posts arrive in order. Caller
// holds s.mu.
func (s *Sandbox) callbackLocked(t *task) {
	if t.spec.callbackURL == "" || s.closed {
		return
	}
	b, err := json.Marshal(s.viewLocked(t))
	if err != nil {
		s.log.Error("sandbox: encode callback", "task_id", t.id, "err", err)
		return
	}
	t.cbQueue = append(t.cbQueue, b)
	if !t.cbBusy {
		t.cbBusy = true
		go s.drainCallbacks(t)
	}
}

func (s *Sandbox) drainCallbacks(t *task) {
	for {
		s.mu.Lock()
		if len(t.cbQueue) == 0 || s.closed {
			t.cbQueue, t.cbBusy = nil, false
			s.mu.Unlock()
			return
		}
		body := t.cbQueue[0]
		t.cbQueue = t.cbQueue[1:]
		s.mu.Unlock()
		s.postCallback(t, body)
	}
}

func (s *Sandbox) postCallback(t *task, body []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), callbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.spec.callbackURL, bytes.NewReader(body))
	if err != nil {
		s.log.Warn("sandbox: callback request", "task_id", t.id, "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		s.log.Warn("sandbox: callback failed", "task_id", t.id, "err", err)
		return
	}
	_ = resp.Body.Close()
	if resp.StatusCode >= 300 {
		s.log.Warn("sandbox: callback refused", "task_id", t.id, "status", resp.StatusCode)
	}
}
