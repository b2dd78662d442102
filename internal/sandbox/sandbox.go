// Package sandbox is a built-in fake of the Kling API that speaks the real
// protocol: JWT auth, the response envelope, strict request validation with
// Kling's error codes, the account concurrency caps (image and video pools),
// the task lifecycle, callbacks and a CDN serving real PNG and MP4 results.
// It serves every endpoint Lepus uses: omni-image, omni-video, image
// generation, text/image/multi-image to video, identify-face and advanced
// lip sync, motion control and video extend; it remembers the videos it
// made, so extend and identify-face by video_id behave like Kling's. It also
// fakes an OpenAI-compatible LLM (llm.go) for prompt enhancement. `lepus
// serve` uses it when no provider keys are set; tests and benchmarks use it
// to inject faults.
//
// It is built to hold thousands of tasks in flight: a task is a small struct
// and one timer, and results are rendered lazily on the first CDN download.
//
// # Surviving a restart
//
// With Config.StateDir set (`lepus serve` uses <data dir>/sandbox), what a
// client may ask about later survives a restart, as it would at a real
// provider that keeps working while its client is down: Kling tasks,
// identify-face sessions, Ark generations answered with URLs and
// Stability relights. Each is one small JSON file, written atomically
// (temporary file, fsync, rename) before the create is answered, and
// read back by New (store.go, restore.go).
//
// A Kling task is saved as its create body, the facts its checks learned
// (the length of a fetched motion video, the video a lip sync or extension
// works on), its latency and creation time. Everything else follows: the
// body is validated again to rebuild the spec, and the clock says whether
// the task is still running (it gets its slots and timers back) or has
// ended (succeed, with its videos usable by id). No input is fetched on
// restore; results are rendered on demand as before, from the same inputs,
// so a CDN URL given out before the restart serves the same file after.
// (A restored task's updated_at is the end its latency sets, without the
// few milliseconds of timer slack the first process may have added.)
//
// Persisting was chosen over self-describing task ids (ids encoding the
// creation time, latency and a signed digest of the inputs) because the
// sandbox must stay strict across the restart: refusing a duplicate
// external_task_id, counting running tasks against the concurrency caps and
// listing an endpoint's tasks all need to know every task, which an id
// presented later cannot tell; and the inputs a result is made from (a
// prompt, base64 images) do not fit in an id.
//
// Not saved, because they are test hooks or counts of this process: the
// injected faults, FailTask calls for tasks not yet created, FailArk,
// FilterRelight, the Counters and the per-id create attempts, and the time
// of a relight's last poll (the first poll after a restart is not rate
// limited).
package sandbox

import (
	"cmp"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Config configures a Sandbox. Zero fields take the DefaultConfig values.
type Config struct {
	// AccessKey and SecretKey are the only credentials the JWT check
	// accepts. Default "sandbox-ak" / "sandbox-sk".
	AccessKey, SecretKey string
	// ImageLatency and VideoLatency are the times from submit to succeed.
	// Default 3 s / 8 s.
	ImageLatency, VideoLatency time.Duration
	// ResponseDelay delays every API response (after the work is done, as a
	// slow server would). Default 0.
	ResponseDelay time.Duration
	// FailureRate is the share of creates refused with a random code from
	// FailureCodes (default [5000]). Default 0.
	FailureRate  float64
	FailureCodes []int
	// ResetRate is the share of creates whose connection is dropped before
	// any work. Default 0.
	ResetRate float64
	// Concurrency caps the slots of running tasks (an image task holds n
	// slots, a video task one); over it a create gets 1303. 0 = unlimited.
	// Like Kling's resource packs, image and video tasks are counted in
	// separate pools, each with this cap unless set below.
	Concurrency int
	// ImageConcurrency and VideoConcurrency cap the image and video pools.
	// Default Concurrency.
	ImageConcurrency, VideoConcurrency int
	// PublicURL is the base of result URLs. Default: derived from the
	// create request's Host.
	PublicURL string
	// Addr is where `lepus serve` starts its sandbox (SANDBOX_ADDR).
	// Default: the address it had last time, else a loopback port. The
	// sandbox itself does not listen; its caller does.
	Addr string
	// HTTPClient fetches input images and posts callbacks. Default: a client
	// with a 30 s timeout.
	HTTPClient *http.Client
	// Logger receives operational logs. Default: discard.
	Logger *slog.Logger
	// Now stamps tasks and checks token times. Default time.Now.
	Now func() time.Time
	// CacheBytes bounds the memory kept for fetched inputs and rendered
	// results, each. Default 256 MiB.
	CacheBytes int64
	// LLMKey is the only Bearer key the OpenAI-compatible LLM endpoint
	// accepts. Default "sandbox-llm-key".
	LLMKey string
	// LLMFailures makes the first n LLM calls answer 500 (see FailLLM).
	// Default 0.
	LLMFailures int
	// ArkKey is the Bearer key the fake Ark images API accepts.
	// Default "sandbox-ark-key".
	ArkKey string
	// ArkImages is how many images a sequential ("auto") Ark request
	// makes, capped by its max_images. Default 4.
	ArkImages int
	// ArkLatency is the time to make a whole Ark answer, spread evenly
	// over its images. Default 3 s.
	ArkLatency time.Duration
	// StabilityKey is the Bearer key the fake Stability API accepts.
	// Default "sandbox-stability-key".
	StabilityKey string
	// StabilityExtraKeys are further accepted keys, each its own account:
	// a generation is visible only to the key that started it. Default none.
	StabilityExtraKeys []string
	// RelightLatency is the time from a relight start to its result.
	// Default 5 s.
	RelightLatency time.Duration
	// StabilityMinPoll is the least time between two answered polls of one
	// generation; a faster poll gets 429 (Stability asks for 10 s).
	// Default 10 s.
	StabilityMinPoll time.Duration
	// StateDir, when set, is where the sandbox saves its tasks, sessions
	// and generations so that a new Sandbox on the same directory knows
	// them (see the package comment). It is created if missing. Default ""
	// (memory only).
	StateDir string
}

// DefaultConfig returns the configuration `lepus serve` uses without keys.
func DefaultConfig() Config {
	return Config{
		AccessKey:    "sandbox-ak",
		SecretKey:    "sandbox-sk",
		ImageLatency: 3 * time.Second,
		VideoLatency: 8 * time.Second,
		FailureCodes: []int{5000},
		CacheBytes:   256 << 20,
		LLMKey:       "sandbox-llm-key",
		ArkKey:       "sandbox-ark-key",
		ArkImages:    4,
		ArkLatency:   3 * time.Second,

		StabilityKey:     "sandbox-stability-key",
		RelightLatency:   5 * time.Second,
		StabilityMinPoll: 10 * time.Second,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.AccessKey = cmp.Or(c.AccessKey, d.AccessKey)
	c.SecretKey = cmp.Or(c.SecretKey, d.SecretKey)
	c.ImageLatency = cmp.Or(c.ImageLatency, d.ImageLatency)
	c.VideoLatency = cmp.Or(c.VideoLatency, d.VideoLatency)
	c.CacheBytes = cmp.Or(c.CacheBytes, d.CacheBytes)
	c.LLMKey = cmp.Or(c.LLMKey, d.LLMKey)
	c.ArkKey = cmp.Or(c.ArkKey, d.ArkKey)
	c.ArkImages = cmp.Or(c.ArkImages, d.ArkImages)
	c.ArkLatency = cmp.Or(c.ArkLatency, d.ArkLatency)
	c.StabilityKey = cmp.Or(c.StabilityKey, d.StabilityKey)
	c.RelightLatency = cmp.Or(c.RelightLatency, d.RelightLatency)
	c.StabilityMinPoll = cmp.Or(c.StabilityMinPoll, d.StabilityMinPoll)
	c.ImageConcurrency = cmp.Or(c.ImageConcurrency, c.Concurrency)
	c.VideoConcurrency = cmp.Or(c.VideoConcurrency, c.Concurrency)
	if len(c.FailureCodes) == 0 {
		c.FailureCodes = d.FailureCodes
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Sandbox is the fake Kling. It implements http.Handler.
type Sandbox struct {
	cfg       Config
	log       *slog.Logger
	handler   http.Handler
	store     *store               // nil without Config.StateDir
	endpoints map[string]*endpoint // by create path

	inputs      *lru // fetched, checked input bytes by source hash
	results     *lru // rendered outputs by "task_id/index"
	renderGroup singleflight.Group
	renderSem   chan struct{}

	idBase uint64
	seq    atomic.Uint64

	mu           sync.Mutex
	closed       bool
	tasks        map[string]*task // by task_id
	byExternal   map[string]*task // by external_task_id
	submissions  map[string]int   // accepted creates per external id
	attempts     map[string]int   // create requests per external id
	faults       []Fault
	failOnFinish map[string]string // FailTask calls before the task exists
	slots        [2]int            // concurrency slots in use, by pool
	running      int               // tasks not yet ended
	stats        Counters
	videos       map[string]*videoRecord // every video produced, by id
	sessions     map[string]*faceSession // identify-face sessions, by id
	llmFailures  int                     // LLM calls still to fail
	llmCalls     int                     // LLM calls with a valid key
	ark          arkState                // the fake Ark (ark.go)
	relight      relightState            // the fake Stability (stability.go)
}

// New returns a Sandbox serving the endpoints in the registry.
func New(cfg Config) *Sandbox {
	cfg = cfg.withDefaults()
	now := cfg.Now()
	s := &Sandbox{
		cfg:          cfg,
		log:          cfg.Logger,
		endpoints:    map[string]*endpoint{},
		inputs:       newLRU(cfg.CacheBytes),
		results:      newLRU(cfg.CacheBytes),
		renderSem:    make(chan struct{}, runtime.NumCPU()),
		idBase:       uint64(now.UnixMilli()) * 100000,
		tasks:        map[string]*task{},
		byExternal:   map[string]*task{},
		submissions:  map[string]int{},
		attempts:     map[string]int{},
		failOnFinish: map[string]string{},
		videos:       map[string]*videoRecord{},
		sessions:     map[string]*faceSession{},
		llmFailures:  cfg.LLMFailures,
	}
	for _, ep := range registry() {
		s.endpoints[ep.path] = ep
	}
	s.handler = s.routes()
	if cfg.StateDir != "" {
		st, err := openStore(cfg.StateDir)
		if err != nil {
			s.log.Error("sandbox: keeping state in memory only", "err", err)
			return s
		}
		s.store = st
		s.restore()
	}
	return s
}

// ServeHTTP serves the Kling API under /v1, results under /sandbox/cdn,
// counters at /sandbox/stats and the LLM under /llm/v1.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Submissions returns how many creates were accepted (paid) for
// externalTaskID: 0 or 1, since a duplicate id is refused. With Attempts it
// shows a retried step reusing its id instead of paying again.
func (s *Sandbox) Submissions(externalTaskID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.submissions[externalTaskID]
}

// Attempts returns how many create requests carried externalTaskID,
// including rejected and dropped ones.
func (s *Sandbox) Attempts(externalTaskID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[externalTaskID]
}

// Fault is one deterministic misbehaviour for a future create request.
type Fault struct {
	// Code refuses the create with this Kling code (e.g. 5000, 1303, 1201)
	// and the HTTP status Kling uses for it.
	Code int
	// Reset drops the connection without a response, before any work.
	Reset bool
	// Delay holds the request this long before anything else.
	Delay time.Duration
	// AfterAccept accepts the task, then drops the connection before the
	// reply: the client loses a response for a task that exists.
	AfterAccept bool
}

// InjectCreate queues faults; each following create request takes the next
// one, in order, before random failures are considered.
func (s *Sandbox) InjectCreate(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// FailTask makes the task with externalTaskID end failed with msg: at once
// if it is running, or at the end of its latency if it is created later.
func (s *Sandbox) FailTask(externalTaskID, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.byExternal[externalTaskID]
	if t == nil {
		s.failOnFinish[externalTaskID] = msg
		return
	}
	if t.ended() {
		return
	}
	if t.timer != nil {
		t.timer.Stop()
	}
	s.finishLocked(t, msg)
	s.saveTaskEndLocked(t)
}

// Close stops all task timers; running tasks stay where they are.
func (s *Sandbox) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, t := range s.tasks {
		if t.timer != nil {
			t.timer.Stop()
		}
	}
}
