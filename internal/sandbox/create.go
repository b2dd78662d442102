package sandbox

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
)

// maxCreateBody bounds a create body: up to ten base64 images of 10 MB.
const maxCreateBody = 160 << 20

// Counters are create outcomes since start, reported by /sandbox/stats, so a
// benchmark can tell paid tasks from refused and dropped requests.
type Counters struct {
	Attempts  int `json:"attempts"`  // create requests seen
	Accepted  int `json:"accepted"`  // tasks created (paid)
	Rejected  int `json:"rejected"`  // creates answered with an error code
	Busy      int `json:"busy"`      // of which 1303 (over the concurrency cap)
	Resets    int `json:"resets"`    // connections dropped (Reset and AfterAccept)
	Succeeded int `json:"succeeded"` // tasks ended succeed
	Failed    int `json:"failed"`    // tasks ended failed
	Queries   int `json:"queries"`   // single-task queries (GET {path}/{id})
	Lists     int `json:"lists"`     // list queries (GET {path}?pageNum&pageSize)
}

// handleCreate serves POST {path}: faults first, then validation, admission
// (duplicate id and concurrency cap), input checks, and acceptance.
func (s *Sandbox) handleCreate(ep *endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxCreateBody))
		if err != nil {
			s.writeError(w, r, codeError(1200, "cannot read request body"))
			return
		}
		f := s.nextFault(peekExternalID(body))
		if !sleep(r.Context(), f.Delay) {
			return
		}
		if f.Reset {
			s.count(func(c *Counters) { c.Resets++ })
			resetConn(w)
			return
		}
		if f.Code != 0 {
			s.reject(w, r, codeError(f.Code, ""))
			return
		}
		sp, e := ep.validate(body)
		if e != nil {
			s.reject(w, r, e)
			return
		}
		// Admission is checked before the slow input fetches so a flood of
		// over-cap creates stays cheap, and again when accepting.
		if e := s.admit(ep, sp); e != nil {
			s.reject(w, r, e)
			return
		}
		for _, in := range sp.images {
			if e := s.checkImage(r.Context(), in); e != nil {
				s.reject(w, r, e)
				return
			}
		}
		for _, check := range sp.checks {
			if e := check(r.Context(), s); e != nil {
				s.reject(w, r, e)
				return
			}
		}
		view, rec, e := s.accept(ep, sp, s.resultBase(r), body)
		if e != nil {
			s.reject(w, r, e)
			return
		}
		// The task is saved before it is answered, so a task the client
		// heard of survives a restart. A task that cannot be saved is still
		// served (it is accepted and paid), but only until the restart.
		if err := s.store.put(kindTask, rec.ID, rec); err != nil {
			s.log.Error("sandbox: task will not survive a restart", "task_id", rec.ID, "err", err)
		}
		if f.AfterAccept {
			s.count(func(c *Counters) { c.Resets++ })
			resetConn(w)
			return
		}
		s.writeData(w, r, view)
	}
}

// nextFault counts the attempt and returns the fault this create suffers:
// the next injected one, else a random one per the configured rates.
func (s *Sandbox) nextFault(externalID string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[externalID]++
	s.stats.Attempts++
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		return f
	}
	if s.cfg.ResetRate > 0 && rand.Float64() < s.cfg.ResetRate {
		return Fault{Reset: true}
	}
	if s.cfg.FailureRate > 0 && rand.Float64() < s.cfg.FailureRate {
		return Fault{Code: s.cfg.FailureCodes[rand.IntN(len(s.cfg.FailureCodes))]}
	}
	return Fault{}
}

func (s *Sandbox) reject(w http.ResponseWriter, r *http.Request, e *apiError) {
	s.log.Debug("sandbox: create rejected", "path", r.URL.Path, "code", e.code, "message", e.message)
	s.count(func(c *Counters) {
		c.Rejected++
		if e.code == 1303 {
			c.Busy++
		}
	})
	s.writeError(w, r, e)
}

func (s *Sandbox) count(f func(*Counters)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

// admit reports why sp cannot be accepted now, or nil.
func (s *Sandbox) admit(ep *endpoint, sp *spec) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.admitLocked(ep, sp)
}

func (s *Sandbox) admitLocked(ep *endpoint, sp *spec) *apiError {
	if sp.externalID != "" && s.byExternal[sp.externalID] != nil {
		return invalidf("external_task_id already exists")
	}
	p := ep.pool()
	if limit := s.poolLimit(p); limit > 0 && s.slots[p]+sp.cost > limit {
		return codeError(1303, "")
	}
	return nil
}

// Concurrency pools: Kling counts image and video resource packs apart.
const (
	poolImage = 0
	poolVideo = 1
)

func (ep *endpoint) pool() int {
	if ep.video {
		return poolVideo
	}
	return poolImage
}

func (s *Sandbox) poolLimit(p int) int {
	if p == poolVideo {
		return s.cfg.VideoConcurrency
	}
	return s.cfg.ImageConcurrency
}

// accept creates the task and starts its lifecycle. It returns the
// task's record for the store, made from the create body.
func (s *Sandbox) accept(ep *endpoint, sp *spec, base string, body []byte) (taskView, *taskRecord, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.admitLocked(ep, sp); e != nil {
		return taskView{}, nil, e
	}
	now := s.cfg.Now().UnixMilli()
	t := &task{
		id:        strconv.FormatUint(s.idBase+s.seq.Add(1), 10),
		ep:        ep,
		spec:      sp,
		baseURL:   base,
		latency:   s.cfg.ImageLatency,
		status:    statusSubmitted,
		createdAt: now,
		updatedAt: now,
	}
	if ep.video {
		t.latency = s.cfg.VideoLatency
	}
	if sp.externalID != "" {
		if msg, ok := s.failOnFinish[sp.externalID]; ok {
			t.failMsg = msg
			delete(s.failOnFinish, sp.externalID)
		}
	}
	s.addLocked(t)
	s.stats.Accepted++
	s.slots[ep.pool()] += sp.cost
	s.running++
	if !s.closed {
		s.startLocked(t)
	}
	s.log.Debug("sandbox: task accepted", "task_id", t.id, "external_task_id", sp.externalID, "path", ep.path)
	return s.viewLocked(t), newTaskRecord(t, body), nil
}

// addLocked makes t known by id and external id, and lists it last on its
// endpoint. Caller holds s.mu.
func (s *Sandbox) addLocked(t *task) {
	if t.spec.externalID != "" {
		s.byExternal[t.spec.externalID] = t
	}
	s.tasks[t.id] = t
	t.ep.tasks = append(t.ep.tasks, t)
	s.submissions[t.spec.externalID]++
}

// resultBase is the base URL of result links: PublicURL, else the host the
// client reached us on.
func (s *Sandbox) resultBase(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// peekExternalID reads external_task_id from a body that may be invalid, so
// every attempt is counted under its id.
func peekExternalID(body []byte) string {
	var v struct {
		ExternalTaskID string `json:"external_task_id"`
	}
	_ = json.Unmarshal(body, &v)
	return v.ExternalTaskID
}
