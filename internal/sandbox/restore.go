package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"image"
	"slices"
	"strconv"
	"strings"
	"time"
)

// taskKeep is how long a Kling task's record is kept on disk: twice the
// 30 days a video can be used, so a task made from a video (extend, lip
// sync) never outlives the task that made the video.
const taskKeep = 2 * videoRetention

// arkKeep is how long an Ark generation's images are served: its URLs say
// X-Tos-Expires=86400.
const arkKeep = 24 * time.Hour

// taskRecord is a Kling task as saved: everything else about it follows
// from these and the clock.
type taskRecord struct {
	ID   string `json:"id"`
	Path string `json:"path"`
	// Body is the create request, validated again to rebuild the spec;
	// Facts stand in for the checks that fetched inputs or read state.
	Body      json.RawMessage `json:"body"`
	Facts     facts           `json:"facts"`
	BaseURL   string          `json:"base_url"`
	Latency   time.Duration   `json:"latency"`
	CreatedAt int64           `json:"created_at"` // ms, like task.createdAt
	// FailMsg is set when the task was created to fail (FailTask before
	// the create).
	FailMsg string `json:"fail_msg,omitempty"`
}

func newTaskRecord(t *task, body []byte) *taskRecord {
	return &taskRecord{
		ID: t.id, Path: t.ep.path, Body: body, Facts: t.spec.facts, BaseURL: t.baseURL,
		Latency: t.latency, CreatedAt: t.createdAt, FailMsg: t.failMsg,
	}
}

// taskEnd records a task FailTask ended before its latency was up: the
// only end the clock cannot tell.
type taskEnd struct {
	Msg string `json:"msg"`
	At  int64  `json:"at"` // ms
}

// restore loads what an earlier process saved in the state dir. New calls
// it before the sandbox serves. Records that cannot be used are logged and
// skipped: a task the sandbox does not know answers 1203, as at Kling.
func (s *Sandbox) restore() {
	now := s.cfg.Now()
	var recs []*taskRecord
	s.eachRecord(kindTask, func(id string, b []byte) error {
		var rec taskRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return err
		}
		if rec.ID != id {
			return fmt.Errorf("record of task %q", rec.ID)
		}
		if now.Sub(time.UnixMilli(rec.CreatedAt)) > taskKeep {
			_ = s.store.remove(kindTaskEnd, id)
			return s.store.remove(kindTask, id)
		}
		recs = append(recs, &rec)
		return nil
	})
	// Creation order: lists are in it, and a task made from a video comes
	// after the task that made the video.
	slices.SortFunc(recs, func(a, b *taskRecord) int {
		return cmp.Or(cmp.Compare(a.CreatedAt, b.CreatedAt), cmp.Compare(len(a.ID), len(b.ID)), strings.Compare(a.ID, b.ID))
	})
	for _, rec := range recs {
		if err := s.restoreTask(rec, now); err != nil {
			s.log.Warn("sandbox: cannot restore task", "task_id", rec.ID, "err", err)
		}
	}
	s.eachRecord(kindSession, func(id string, b []byte) error { return s.restoreSession(id, b, now) })
	s.eachRecord(kindArk, func(id string, b []byte) error { return s.restoreArk(id, b, now) })
	s.eachRecord(kindRelight, func(id string, b []byte) error { return s.restoreRelight(id, b, now) })
	s.log.Info("sandbox: state restored", "dir", s.cfg.StateDir, "tasks", len(s.tasks), "running", s.running,
		"sessions", len(s.sessions), "ark_generations", len(s.ark.gens), "relights", len(s.relight.jobs))
}

// eachRecord calls f for every record of kind, logging the ones it cannot
// read or f refuses.
func (s *Sandbox) eachRecord(kind string, f func(id string, data []byte) error) {
	err := s.store.each(kind, func(id string, data []byte, err error) {
		if err == nil {
			err = f(id, data)
		}
		if err != nil {
			s.log.Warn("sandbox: cannot restore record", "kind", kind, "id", id, "err", err)
		}
	})
	if err != nil {
		s.log.Error("sandbox: cannot restore records", "kind", kind, "err", err)
	}
}

// restoreTask rebuilds one task and puts it where the clock says it is: a
// task whose latency passed while no process ran has ended (succeed,
// unless it was made to fail); a running one holds its slots again and
// gets timers for the rest of its way.
func (s *Sandbox) restoreTask(rec *taskRecord, now time.Time) error {
	ep := s.endpoints[rec.Path]
	if ep == nil {
		return fmt.Errorf("no endpoint %s", rec.Path)
	}
	sp, e := ep.validate(rec.Body)
	if e != nil {
		return fmt.Errorf("create body refused: %d %s", e.code, e.message)
	}
	sp.facts = rec.Facts
	if sp.apply != nil {
		if e := sp.apply(s); e != nil {
			return fmt.Errorf("facts refused: %s", e.message)
		}
	}
	var end taskEnd
	endedEarly, err := s.store.get(kindTaskEnd, rec.ID, &end)
	if err != nil {
		return err
	}
	base := rec.BaseURL
	if s.cfg.PublicURL != "" {
		base = strings.TrimRight(s.cfg.PublicURL, "/") // where the CDN answers now
	}
	t := &task{
		id: rec.ID, ep: ep, spec: sp, baseURL: base, latency: rec.Latency,
		status: statusSubmitted, failMsg: rec.FailMsg, createdAt: rec.CreatedAt, updatedAt: rec.CreatedAt,
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tasks[t.id] != nil || (sp.externalID != "" && s.byExternal[sp.externalID] != nil) {
		return fmt.Errorf("duplicate task or external_task_id %q", sp.externalID)
	}
	s.addLocked(t)
	if n, err := strconv.ParseUint(t.id, 10, 64); err == nil && n > s.idBase {
		s.idBase = n // new ids follow every restored one
	}
	nowMS := now.UnixMilli()
	procAt := rec.CreatedAt + processingAfter(rec.Latency).Milliseconds()
	endAt := rec.CreatedAt + rec.Latency.Milliseconds()
	switch {
	case endedEarly:
		t.status, t.msg, t.updatedAt = statusFailed, end.Msg, end.At
	case nowMS >= endAt:
		t.updatedAt = endAt
		if t.failMsg != "" {
			t.status, t.msg = statusFailed, t.failMsg
		} else {
			t.status = statusSucceed
			s.recordVideosLocked(t)
		}
	default:
		s.slots[ep.pool()] += sp.cost
		s.running++
		if nowMS < procAt {
			t.timer = time.AfterFunc(time.Duration(procAt-nowMS)*time.Millisecond, func() { s.toProcessing(t) })
			break
		}
		t.status, t.updatedAt = statusProcessing, procAt
		t.timer = time.AfterFunc(time.Duration(endAt-nowMS)*time.Millisecond, func() { s.finish(t) })
	}
	return nil
}

// saveTaskEndLocked records that FailTask ended t early. Caller holds s.mu.
func (s *Sandbox) saveTaskEndLocked(t *task) {
	if err := s.store.put(kindTaskEnd, t.id, taskEnd{Msg: t.msg, At: t.updatedAt}); err != nil {
		s.log.Error("sandbox: task end will not survive a restart", "task_id", t.id, "err", err)
	}
}

// sessionRecord is an identify-face session as saved.
type sessionRecord struct {
	ID        string       `json:"id"`
	CreatedAt time.Time    `json:"created_at"`
	VideoID   string       `json:"video_id,omitempty"`
	VideoURL  string       `json:"video_url,omitempty"`
	Millis    int64        `json:"millis"`
	Faces     []faceRecord `json:"faces"`
}

type faceRecord struct {
	Box   [4]int `json:"box"` // min x, min y, max x, max y
	Start int64  `json:"start"`
	End   int64  `json:"end"`
}

func rectOf(b [4]int) image.Rectangle { return image.Rect(b[0], b[1], b[2], b[3]) }

func (s *Sandbox) saveSession(sess *faceSession) {
	if s.store == nil {
		return
	}
	rec := sessionRecord{ID: sess.id, CreatedAt: sess.createdAt, VideoURL: sess.video.url, Millis: sess.millis, Faces: []faceRecord{}}
	if sess.video.rec != nil {
		rec.VideoID = sess.video.rec.id
	}
	for _, f := range sess.faces {
		rec.Faces = append(rec.Faces, faceRecord{Box: [4]int{f.box.Min.X, f.box.Min.Y, f.box.Max.X, f.box.Max.Y}, Start: f.start, End: f.end})
	}
	if err := s.store.put(kindSession, sess.id, rec); err != nil {
		s.log.Error("sandbox: session will not survive a restart", "session_id", sess.id, "err", err)
	}
}

func (s *Sandbox) restoreSession(id string, b []byte, now time.Time) error {
	var rec sessionRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return err
	}
	if rec.ID != id {
		return fmt.Errorf("record of session %q", rec.ID)
	}
	if now.Sub(rec.CreatedAt) > sessionTTL {
		return s.store.remove(kindSession, id)
	}
	sess := &faceSession{id: rec.ID, createdAt: rec.CreatedAt, video: videoSource{url: rec.VideoURL}, millis: rec.Millis}
	if rec.VideoID != "" {
		if sess.video.rec = s.videoRecord(rec.VideoID); sess.video.rec == nil {
			return fmt.Errorf("video %q is unknown", rec.VideoID)
		}
	}
	for _, f := range rec.Faces {
		sess.faces = append(sess.faces, sessionFace{box: rectOf(f.Box), start: f.Start, end: f.End})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[sess.id] = sess
	return nil
}

// arkRecord is an Ark generation as saved: only generations answered with
// URLs are, since only they are downloaded later.
type arkRecord struct {
	ID        string    `json:"id"`
	Created   time.Time `json:"created"`
	Source    string    `json:"source,omitempty"`
	Prompt    string    `json:"prompt"`
	W         int       `json:"w"`
	H         int       `json:"h"`
	Watermark bool      `json:"watermark"`
	OK        []int     `json:"ok"`
}

// arkRecordLocked is the record of g after one more of its images was
// made, to save outside the lock; nil when g is not saved. Caller holds
// s.mu.
func (s *Sandbox) arkRecordLocked(g *arkGen) *arkRecord {
	if g.b64 || s.store == nil {
		return nil
	}
	return &arkRecord{ID: g.id, Created: g.created, Source: g.source, Prompt: g.prompt, W: g.w, H: g.h, Watermark: g.wm, OK: slices.Clone(g.ok)}
}

func (s *Sandbox) saveArk(rec *arkRecord) {
	if rec == nil {
		return
	}
	if err := s.store.put(kindArk, rec.ID, rec); err != nil {
		s.log.Error("sandbox: ark images will not survive a restart", "gen_id", rec.ID, "err", err)
	}
}

func (s *Sandbox) restoreArk(id string, b []byte, now time.Time) error {
	var rec arkRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return err
	}
	if rec.ID != id || rec.W <= 0 || rec.H <= 0 {
		return fmt.Errorf("bad record of generation %q", rec.ID)
	}
	if now.Sub(rec.Created) > arkKeep {
		return s.store.remove(kindArk, id)
	}
	g := &arkGen{id: rec.ID, created: rec.Created, source: rec.Source, prompt: rec.Prompt, w: rec.W, h: rec.H,
		size: fmt.Sprintf("%dx%d", rec.W, rec.H), pixels: rec.W * rec.H, wm: rec.Watermark, ok: rec.OK}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ark.gens == nil {
		s.ark.gens = map[string]*arkGen{}
	}
	s.ark.gens[g.id] = g
	if n, err := strconv.ParseUint(g.id, 10, 64); err == nil && n > s.idBase {
		s.idBase = n
	}
	return nil
}

// relightRecord is a Stability relight as saved: the multipart body is
// parsed again to render it.
type relightRecord struct {
	ID       string    `json:"id"`
	Key      string    `json:"key"`
	Body     []byte    `json:"body"`
	Boundary string    `json:"boundary"`
	Started  time.Time `json:"started"`
	Done     time.Time `json:"done"`
	Seed     int64     `json:"seed"`
	Filtered bool      `json:"filtered"`
}

func (s *Sandbox) saveRelight(j *relightJob, body []byte, boundary string) {
	rec := relightRecord{ID: j.id, Key: j.key, Body: body, Boundary: boundary, Started: j.started, Done: j.done, Seed: j.seed, Filtered: j.filtered}
	if err := s.store.put(kindRelight, j.id, rec); err != nil {
		s.log.Error("sandbox: relight will not survive a restart", "generation_id", j.id, "err", err)
	}
}

func (s *Sandbox) restoreRelight(id string, b []byte, now time.Time) error {
	var rec relightRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return err
	}
	if rec.ID != id {
		return fmt.Errorf("record of generation %q", rec.ID)
	}
	if now.Sub(rec.Done) > relightRetention {
		return s.store.remove(kindRelight, id)
	}
	form, errs := parseRelightForm(rec.Body, rec.Boundary)
	if len(errs) > 0 {
		return fmt.Errorf("form refused: %s", strings.Join(errs, "; "))
	}
	j := &relightJob{id: rec.ID, key: rec.Key, form: form, started: rec.Started, done: rec.Done, seed: rec.Seed, filtered: rec.Filtered}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.relight
	if st.jobs == nil {
		st.jobs, st.startsByKey = map[string]*relightJob{}, map[string]int{}
	}
	st.jobs[j.id] = j
	return nil
}
