package sandbox

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// routes lists the whole HTTP surface.
func (s *Sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	for path, ep := range s.endpoints {
		mux.Handle("POST "+path, s.api(s.handleCreate(ep)))
		mux.Handle("GET "+path+"/{id}", s.api(s.handleGet(ep)))
		mux.Handle("GET "+path, s.api(s.handleList(ep)))
	}
	mux.Handle("POST "+pathIdentifyFace, s.api(s.handleIdentifyFace))
	mux.Handle("/v1/", s.api(s.handleUnknown))
	mux.HandleFunc("GET /sandbox/stats", s.handleStats)
	mux.HandleFunc("GET /sandbox/cdn/{task}/{file}", s.handleCDN)
	mux.HandleFunc("GET /sandbox/cdn/face/{session}/{file}", s.handleFaceImage)
	mux.HandleFunc("POST /llm/v1/chat/completions", s.handleChat)
	mux.HandleFunc("POST "+pathArkImages, s.handleArkImages)
	mux.HandleFunc("GET /sandbox/cdn/ark/{gen}/{file}", s.handleArkCDN)
	mux.HandleFunc("POST "+pathRelight, s.handleRelightStart)
	mux.HandleFunc("GET "+pathStabilityResult, s.handleRelightResult)
	return mux
}

// handleUnknown answers paths and methods the API does not have.
func (s *Sandbox) handleUnknown(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.endpoints[r.URL.Path]; ok || r.URL.Path == pathIdentifyFace {
		s.writeError(w, r, codeError(1202, "method "+r.Method+" is not allowed on "+r.URL.Path))
		return
	}
	s.writeError(w, r, codeError(1203, "no such resource: "+r.URL.Path))
}

// handleGet serves GET {path}/{id}, id being a task_id or external_task_id.
func (s *Sandbox) handleGet(ep *endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		s.mu.Lock()
		s.stats.Queries++
		t := s.tasks[id]
		if t == nil {
			t = s.byExternal[id]
		}
		var view taskView
		found := t != nil && t.ep == ep
		if found {
			view = s.viewLocked(t)
		}
		s.mu.Unlock()
		if !found {
			s.writeError(w, r, codeError(1203, "task not found"))
			return
		}
		s.writeData(w, r, view)
	}
}

// handleList serves GET {path}?pageNum=&pageSize=, newest task first.
func (s *Sandbox) handleList(ep *endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		pageNum, e := intParam(q.Get("pageNum"), "pageNum", 1, 1, 1000)
		if e != nil {
			s.writeError(w, r, e)
			return
		}
		pageSize, e := intParam(q.Get("pageSize"), "pageSize", 30, 1, 500)
		if e != nil {
			s.writeError(w, r, e)
			return
		}
		s.mu.Lock()
		s.stats.Lists++
		views := []taskView{}
		end := len(ep.tasks) - (pageNum-1)*pageSize
		for i := end - 1; i >= 0 && i >= end-pageSize; i-- {
			views = append(views, s.viewLocked(ep.tasks[i]))
		}
		s.mu.Unlock()
		s.writeData(w, r, views)
	}
}

func intParam(raw, name string, def, lo, hi int) (int, *apiError) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, invalidf("%s must be an integer in [%d, %d]", name, lo, hi)
	}
	return n, nil
}

// Stats is the body of GET /sandbox/stats. Submissions maps each external
// task id to its accepted creates (at most 1: a duplicate id is refused).
type Stats struct {
	Counters
	// Running counts tasks not yet ended; SlotsInUse the concurrency they
	// hold (image tasks hold n), split into the image and video pools.
	Running          int `json:"running"`
	SlotsInUse       int `json:"slots_in_use"`
	ImageSlotsInUse  int `json:"image_slots_in_use"`
	VideoSlotsInUse  int `json:"video_slots_in_use"`
	Concurrency      int `json:"concurrency"`
	ImageConcurrency int `json:"image_concurrency"`
	VideoConcurrency int `json:"video_concurrency"`
	Tasks            int `json:"tasks"`
	// Videos counts the videos produced (video-extend and identify-face
	// accept their ids); Sessions the identify-face sessions made.
	Videos   int `json:"videos"`
	Sessions int `json:"sessions"`
	// LLMCalls counts calls to the fake LLM with a valid key.
	LLMCalls    int            `json:"llm_calls"`
	Submissions map[string]int `json:"submissions"`

	// ArkCalls counts Ark image requests with a valid key, ArkImages the
	// images they made (what Ark bills).
	ArkCalls  int `json:"ark_calls"`
	ArkImages int `json:"ark_images"`

	// RelightStarts counts relights started (paid), RelightPolls result
	// polls answered, RelightRateLimited polls refused with 429 for
	// coming too fast. RelightStartsFor gives the starts of one key.
	RelightStarts      int `json:"relight_starts"`
	RelightPolls       int `json:"relight_polls"`
	RelightRateLimited int `json:"relight_rate_limited"`
}

// Stats returns the current counts; GET /sandbox/stats serves the same.
func (s *Sandbox) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	subs := make(map[string]int, len(s.submissions))
	for k, v := range s.submissions {
		if k != "" {
			subs[k] = v
		}
	}
	return Stats{
		Counters:         s.stats,
		Running:          s.running,
		SlotsInUse:       s.slots[poolImage] + s.slots[poolVideo],
		ImageSlotsInUse:  s.slots[poolImage],
		VideoSlotsInUse:  s.slots[poolVideo],
		Concurrency:      s.cfg.Concurrency,
		ImageConcurrency: s.cfg.ImageConcurrency,
		VideoConcurrency: s.cfg.VideoConcurrency,
		Tasks:            len(s.tasks),
		Videos:           len(s.videos),
		Sessions:         len(s.sessions),
		LLMCalls:         s.llmCalls,
		ArkCalls:         s.ark.calls,
		ArkImages:        s.ark.images,
		Submissions:      subs,

		RelightStarts:      s.relight.starts,
		RelightPolls:       s.relight.polls,
		RelightRateLimited: s.relight.rateLimited,
	}
}

func (s *Sandbox) handleStats(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.Stats())
}
