package sandbox

// The sandbox also fakes Stability AI's asynchronous replace-background-
// and-relight (other-providers.md §1), as strict as the published contract:
//
//	POST /v2beta/stable-image/edit/replace-background-and-relight
//	    Bearer key, multipart/form-data only, body ≤ 10 MiB (else 413),
//	    every field checked; 200 {"id": <64 hex>}.
//	GET /v2beta/results/{id}
//	    202 {"id", "status": "in-progress"} until RelightLatency has passed,
//	    then 200 with the image (headers finish-reason and seed); 404 for
//	    an unknown id, another key's id or a result older than 24 h; 429
//	    when the same id is polled again within StabilityMinPoll.
//
// Errors have Stability's v2beta shape {"id", "name", "errors": [...]}. The
// result is synth.Relight of the subject, with a new backdrop unless
// keep_original_background is "true". Content filtering is simulated by
// FilterRelight and by the word "forbidden" in a prompt: such results
// finish with finish-reason CONTENT_FILTERED and a blurred image.

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Stability paths and limits.
const (
	pathRelight         = "/v2beta/stable-image/edit/replace-background-and-relight"
	pathStabilityResult = "/v2beta/results/{id}"
	relightMaxBody      = 10 << 20
	relightRetention    = 24 * time.Hour
	// relightDrainLimit bounds how much of an oversized body is read and
	// dropped before the 413, so the client sees the reply rather than a
	// reset while it is still sending.
	relightDrainLimit = 64 << 20
	// relightSweepEvery spaces the removal of expired generations.
	relightSweepEvery = time.Minute
)

// relightState is the fake Stability's memory; guarded by Sandbox.mu. The
// zero value is ready to use.
type relightState struct {
	jobs        map[string]*relightJob
	filterNext  int // FilterRelight calls not yet used
	startsByKey map[string]int
	starts      int
	polls       int
	rateLimited int
	lastSweep   time.Time
}

// relightJob is one generation.
type relightJob struct {
	id, key  string
	form     *relightForm // dropped once the result is rendered
	started  time.Time
	done     time.Time
	seed     int64
	filtered bool
	lastPoll time.Time // of the last poll answered (not rate limited)
	result   []byte    // rendered on the first successful poll
	mime     string
}

// FilterRelight makes the next n relights finish CONTENT_FILTERED, with a
// blurred image, as Stability's moderation does (HTTP 200 all the same).
func (s *Sandbox) FilterRelight(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.relight.filterNext += n
}

// RelightStartsFor returns how many relights key has started (paid for),
// so a test can tell which account a workflow used.
func (s *Sandbox) RelightStartsFor(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.relight.startsByKey[key]
}

// stabilityKey returns the request's Bearer key if it is accepted.
func (s *Sandbox) stabilityKey(r *http.Request) (string, bool) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || key == "" {
		return "", false
	}
	for _, k := range append([]string{s.cfg.StabilityKey}, s.cfg.StabilityExtraKeys...) {
		if k != "" && subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1 {
			return key, true
		}
	}
	return "", false
}

// forbiddenWord stands in for content the moderation filter catches.
var forbiddenWord = regexp.MustCompile(`(?i)\bforbidden\b`)

// handleRelightStart serves POST pathRelight.
func (s *Sandbox) handleRelightStart(w http.ResponseWriter, r *http.Request) {
	key, ok := s.stabilityKey(r)
	if !ok {
		writeStabilityError(w, http.StatusUnauthorized, "unauthorized", "authorization: missing or invalid API key")
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		writeStabilityError(w, http.StatusBadRequest, "invalid_parameters", "content-type: must be multipart/form-data")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, relightMaxBody+1))
	if err != nil {
		writeStabilityError(w, http.StatusBadRequest, "invalid_parameters", "body: cannot read the request body")
		return
	}
	if len(body) > relightMaxBody {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, relightDrainLimit))
		writeStabilityError(w, http.StatusRequestEntityTooLarge, "payload_too_large", "payloads cannot be larger than 10MiB in size")
		return
	}
	form, errs := parseRelightForm(body, params["boundary"])
	if len(errs) > 0 {
		writeStabilityError(w, http.StatusBadRequest, "invalid_parameters", errs...)
		return
	}
	now := s.cfg.Now()
	job := &relightJob{
		id: newGenerationID(), key: key, form: form, started: now,
		done: now.Add(s.cfg.RelightLatency), seed: form.seed,
		filtered: forbiddenWord.MatchString(form.background + " " + form.foreground),
	}
	if job.seed == 0 {
		job.seed = randomSeed()
	}
	s.mu.Lock()
	st := &s.relight
	if st.jobs == nil {
		st.jobs, st.startsByKey = map[string]*relightJob{}, map[string]int{}
	}
	if st.filterNext > 0 {
		st.filterNext--
		job.filtered = true
	}
	st.jobs[job.id] = job
	st.starts++
	st.startsByKey[key]++
	s.sweepRelightLocked(now)
	s.mu.Unlock()
	if s.store != nil {
		s.saveRelight(job, body, params["boundary"])
	}
	s.log.Debug("sandbox: relight started", "generation_id", job.id, "filtered", job.filtered)
	writeStabilityJSON(w, http.StatusOK, map[string]string{"id": job.id})
}

// sweepRelightLocked forgets expired generations, at most once a minute.
func (s *Sandbox) sweepRelightLocked(now time.Time) {
	st := &s.relight
	if now.Sub(st.lastSweep) < relightSweepEvery {
		return
	}
	st.lastSweep = now
	for id, j := range st.jobs {
		if now.Sub(j.done) > relightRetention {
			delete(st.jobs, id)
			_ = s.store.remove(kindRelight, id)
		}
	}
}

// handleRelightResult serves GET pathStabilityResult.
func (s *Sandbox) handleRelightResult(w http.ResponseWriter, r *http.Request) {
	key, ok := s.stabilityKey(r)
	if !ok {
		writeStabilityError(w, http.StatusUnauthorized, "unauthorized", "authorization: missing or invalid API key")
		return
	}
	id := r.PathValue("id")
	now := s.cfg.Now()
	s.mu.Lock()
	st := &s.relight
	job := st.jobs[id]
	if job != nil && now.Sub(job.done) > relightRetention {
		delete(st.jobs, id)
		_ = s.store.remove(kindRelight, id)
		job = nil
	}
	if job == nil || job.key != key {
		s.mu.Unlock()
		writeStabilityError(w, http.StatusNotFound, "not_found", "id: no generation "+id+" for this API key (results are kept 24 hours)")
		return
	}
	if !job.lastPoll.IsZero() && now.Sub(job.lastPoll) < s.cfg.StabilityMinPoll {
		st.rateLimited++
		s.mu.Unlock()
		writeStabilityError(w, http.StatusTooManyRequests, "rate_limit_exceeded",
			"poll results no more than once every "+s.cfg.StabilityMinPoll.String())
		return
	}
	job.lastPoll = now
	st.polls++
	running := now.Before(job.done)
	s.mu.Unlock()
	if running {
		writeStabilityJSON(w, http.StatusAccepted, map[string]string{"id": id, "status": "in-progress"})
		return
	}
	data, ctype, err := s.relightResult(job)
	if err != nil {
		s.log.Error("sandbox: render relight", "generation_id", id, "err", err)
		writeStabilityError(w, http.StatusInternalServerError, "internal_error", "an unexpected server error occurred")
		return
	}
	finish := "SUCCESS"
	if job.filtered {
		finish = "CONTENT_FILTERED"
	}
	seed := strconv.FormatInt(job.seed, 10)
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json; type="+ctype)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"image": base64.StdEncoding.EncodeToString(data), "finish_reason": finish, "seed": job.seed,
		})
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Finish-Reason", finish)
	w.Header().Set("Seed", seed)
	_, _ = w.Write(data)
}

// writeStabilityError writes the v2beta error shape.
func writeStabilityError(w http.ResponseWriter, status int, name string, errs ...string) {
	writeStabilityJSON(w, status, map[string]any{"id": newErrorID(), "name": name, "errors": errs})
}

func writeStabilityJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newGenerationID is a 64-hex-character id like Stability's GenerationID.
func newGenerationID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newErrorID is the 32-hex-character id of an error reply.
func newErrorID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// randomSeed picks a seed in [1, 4294967294], as Stability does for 0.
func randomSeed() int64 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	v := int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
	return v%relightMaxSeed + 1
}
