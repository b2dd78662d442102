// Package config reads Lepus's configuration from environment variables into
// one typed struct. Nothing else in the program reads the environment.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Config is the whole configuration of a lepus process.
type Config struct {
	// Addr is the listen address. Default "127.0.0.1:8080" (LEPUS_ADDR).
	Addr string `env:"LEPUS_ADDR"`
	// DataDir holds the SQLite database, local blobs and the generated JWT
	// secret. Default "./lepus-data" (LEPUS_DATA_DIR).
	DataDir string `env:"LEPUS_DATA_DIR"`
	// DatabaseURL is a postgres:// URL or a SQLite path. Default
	// "<DataDir>/lepus.db" (LEPUS_DATABASE_URL).
	DatabaseURL string `env:"LEPUS_DATABASE_URL"`
	// BlobURL is the gocloud.dev bucket URL. Default "file://<DataDir>/blobs"
	// (LEPUS_BLOB_URL).
	BlobURL string `env:"LEPUS_BLOB_URL"`
	// PublicURL is the base of asset, upload and callback URLs. Default
	// "http://<bound address>" in lepus serve; lepus api and lepus worker
	// refuse to start without it (LEPUS_PUBLIC_URL).
	PublicURL string `env:"LEPUS_PUBLIC_URL"`
	// JWTSecret signs and verifies bearer tokens. Default: generated once and
	// kept in the data dir (LEPUS_JWT_SECRET).
	JWTSecret string `env:"LEPUS_JWT_SECRET"`
	// AdminToken, when set, opens the admin area (/admin/river, the River
	// UI) to whoever sends it as a bearer token; at least 16 characters.
	// Default unset: only JWTs with "lepus_role": "admin" open it
	// (LEPUS_ADMIN_TOKEN).
	AdminToken string `env:"LEPUS_ADMIN_TOKEN"`
	// AllowPrivateURLs lets URL inputs and result downloads reach loopback and
	// private addresses. Default off; on in sandbox mode
	// (LEPUS_ALLOW_PRIVATE_URLS).
	AllowPrivateURLs bool `env:"LEPUS_ALLOW_PRIVATE_URLS"`
	// ConsoleDevSignIn serves the web console's developer sign-in (POST
	// /console/dev-token), which gives a token to anyone who can reach the
	// server. Sandbox mode only. Default: on when Addr is a loopback address
	// (127.0.0.1, ::1, localhost), else off; 1 turns it on for any address
	// (Docker listens on 0.0.0.0), 0 off (LEPUS_CONSOLE_DEV_SIGNIN).
	ConsoleDevSignIn bool `env:"LEPUS_CONSOLE_DEV_SIGNIN"`
	// StartingCredits is the balance a new user starts with. Default 1000
	// (LEPUS_STARTING_CREDITS).
	StartingCredits int `env:"LEPUS_STARTING_CREDITS"`
	// Costs overrides the credit cost of task types, e.g.
	// "face_swap=4,face_swap_video=10" (LEPUS_COSTS). Defaults in DefaultCosts.
	Costs map[string]int `env:"LEPUS_COSTS"`
	// Workers is how many jobs run at once in this process. Default 50
	// (LEPUS_WORKERS). Waiting on a provider holds no worker.
	Workers int `env:"LEPUS_WORKERS"`
	// CreateCommitters is how many groups of concurrent creates commit at
	// once (LEPUS_CREATE_COMMITTERS, 1..64). Default 1: on a 2-core box one
	// committer on Postgres took more creates a second than two or four
	// (BENCHMARKS.md); more can help many users' creates on more cores.
	CreateCommitters int `env:"LEPUS_CREATE_COMMITTERS"`
	// PollInterval, when set, replaces every workflow's provider poll
	// interval (LEPUS_POLL_INTERVAL); for tests and benchmarks.
	PollInterval time.Duration `env:"LEPUS_POLL_INTERVAL"`
	// FetchPollInterval is how often the queue looks for due jobs. Default
	// 1s (LEPUS_QUEUE_POLL_INTERVAL).
	FetchPollInterval time.Duration `env:"LEPUS_QUEUE_POLL_INTERVAL"`
	// JobTimeout bounds one run of a job (a step or two; waiting on a
	// provider is not a run). Default 5m (LEPUS_JOB_TIMEOUT).
	JobTimeout time.Duration `env:"LEPUS_JOB_TIMEOUT"`
	// RescueAfter is how long a job may stay running before it is presumed
	// lost with a crashed process and run again. Default JobTimeout + 1m
	// (LEPUS_RESCUE_AFTER).
	RescueAfter time.Duration `env:"LEPUS_RESCUE_AFTER"`
	// RetryBase is the first retry delay; each retry doubles it, capped at
	// 300 s. Default 1s (LEPUS_RETRY_BASE).
	RetryBase time.Duration `env:"LEPUS_RETRY_BASE"`
	// WebhookRetryBase scales the webhook retry schedule: retries after 1,
	// 60, 360, 1440, 3600, 7200 and 7200 times it (5 s … 10 h, about 27.6 h
	// in all). Default 5s (LEPUS_WEBHOOK_RETRY_BASE); tests make it short.
	WebhookRetryBase time.Duration `env:"LEPUS_WEBHOOK_RETRY_BASE"`
	// ShutdownGrace is how long running steps may take to finish after
	// SIGTERM before they are cut short and handed back to the queue
	// (without costing an attempt). Default 20s (LEPUS_SHUTDOWN_GRACE).
	ShutdownGrace time.Duration `env:"LEPUS_SHUTDOWN_GRACE"`
	// EventsRecheck is how often an open event stream re-reads its task
	// when nothing woke it: the safety net for a missed wake-up. Changes
	// reach streams at once in the process that made them and, on Postgres,
	// from every other process through LISTEN/NOTIFY. Default 2s on SQLite,
	// 10s on Postgres (LEPUS_EVENTS_RECHECK).
	EventsRecheck time.Duration `env:"LEPUS_EVENTS_RECHECK"`
	// DebugAddr, when set, serves Go's pprof and expvar pages on that
	// address, apart from the API (LEPUS_DEBUG_ADDR). Default off.
	DebugAddr string `env:"LEPUS_DEBUG_ADDR"`
	// LogLevel is debug|info|warn|error. Default info (LEPUS_LOG_LEVEL).
	LogLevel string `env:"LEPUS_LOG_LEVEL"`
	// LogFormat is text|json. Default text (LEPUS_LOG_FORMAT).
	LogFormat string `env:"LEPUS_LOG_FORMAT"`
	// MetricsAddr, when set, serves the Prometheus metrics at /metrics on
	// that address too: the only place lepus worker, which has no API,
	// serves them (LEPUS_METRICS_ADDR). Default off; the API serves
	// /metrics itself.
	MetricsAddr string `env:"LEPUS_METRICS_ADDR"`
	// CORSOrigins are the browser origins allowed to call the API, e.g.
	// "https://app.example.com,https://*.example.com", or "*" for any, or
	// "none" (LEPUS_CORS_ORIGINS). Default: none in live mode, "*" in
	// sandbox mode. Tokens travel in the Authorization header, not in
	// cookies, so "*" lets no site act as a signed-in user.
	CORSOrigins []string `env:"LEPUS_CORS_ORIGINS"`
	// Limits are the per-user fair-use limits (LEPUS_RATE_LIMIT,
	// LEPUS_RATE_BURST, LEPUS_MAX_IN_FLIGHT); see LimitsConfig.
	Limits LimitsConfig

	Kling     KlingConfig
	LLM       LLMConfig
	Stability StabilityConfig
	Ark       ArkConfig
}

// ArkConfig configures Volcengine Ark (Seedream portraits). Without a key,
// Seedream uses the sandbox in sandbox mode; in live mode portraits come
// from Kling, and the avatar says why.
type ArkConfig struct {
	APIKey  string `env:"ARK_API_KEY"`
	BaseURL string `env:"ARK_BASE_URL"`   // default https://ark.cn-beijing.volces.com/api/v3
	Model   string `env:"SEEDREAM_MODEL"` // default doubao-seedream-4-0-250828
}

// StabilityConfig configures Stability AI (relight). Without a key, relight
// uses the sandbox in sandbox mode and is refused in live mode.
type StabilityConfig struct {
	APIKey  string `env:"STABILITY_API_KEY"`
	BaseURL string `env:"STABILITY_BASE_URL"` // default https://api.stability.ai
}

// LLMConfig configures the OpenAI-compatible LLM used for prompt work
// (Doubao on Ark, Gemini's OpenAI endpoint, …). With none set, the sandbox's
// LLM is used in sandbox mode, and prompt enhancement falls back to the
// original prompt (with a note) in live mode.
type LLMConfig struct {
	BaseURL string `env:"LEPUS_LLM_BASE_URL"` // e.g. https://ark.cn-beijing.volces.com/api/v3
	APIKey  string `env:"LEPUS_LLM_API_KEY"`
	Model   string `env:"LEPUS_LLM_MODEL"`
}

// Configured reports whether an LLM is set.
func (l LLMConfig) Configured() bool { return l.BaseURL != "" }

// KlingConfig configures the Kling provider.
type KlingConfig struct {
	// AccessKey and SecretKey (KLING_ACCESS_KEY, KLING_SECRET_KEY). With
	// neither set, lepus serve runs the built-in provider sandbox.
	AccessKey string `env:"KLING_ACCESS_KEY"`
	SecretKey string `env:"KLING_SECRET_KEY"`
	// BaseURL. Default "https://api-singapore.klingai.com" (KLING_BASE_URL).
	BaseURL string `env:"KLING_BASE_URL"`
	// VideoSlots and ImageSlots cap the account's concurrent provider tasks
	// per pool across all workers (an image task holds n slots). Defaults 10
	// and 10 (KLING_VIDEO_SLOTS, KLING_IMAGE_SLOTS); any value >= 1. Match
	// them to the account's resource packs so Lepus never triggers code
	// 1303; an image request whose n exceeds ImageSlots is refused.
	VideoSlots int `env:"KLING_VIDEO_SLOTS"`
	ImageSlots int `env:"KLING_IMAGE_SLOTS"`
}

// SandboxMode reports whether no provider keys are set, so the built-in
// provider sandbox stands in for Kling.
func (c Config) SandboxMode() bool {
	return c.Kling.AccessKey == "" && c.Kling.SecretKey == ""
}

// IsPostgres reports whether DatabaseURL selects Postgres.
func (c Config) IsPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// FromEnv reads the configuration through getenv, applies defaults and
// validates it. Errors name the variable at fault.
func FromEnv(getenv func(string) string) (Config, error) {
	// The limits take their defaults before parsing, as 0 turns a limit
	// off; every other setting is defaulted by WithDefaults.
	c := Config{Limits: LimitsConfig{Rate: DefaultRateLimit, MaxInFlight: DefaultMaxInFlight}}
	set, err := ParseEnv(&c, getenv, envParsers)
	err = errors.Join(err, checkCostKeys(c.Costs))
	// A slot count set to 0 is refused rather than read as "use the
	// default": an account with no slots cannot run tasks.
	if _, ok := set["KLING_VIDEO_SLOTS"]; ok && c.Kling.VideoSlots == 0 {
		err = errors.Join(err, errors.New("KLING_VIDEO_SLOTS: must be at least 1"))
	}
	if _, ok := set["KLING_IMAGE_SLOTS"]; ok && c.Kling.ImageSlots == 0 {
		err = errors.Join(err, errors.New("KLING_IMAGE_SLOTS: must be at least 1"))
	}
	if err != nil {
		return Config{}, err
	}
	if _, ok := set["LEPUS_ALLOW_PRIVATE_URLS"]; !ok {
		c.AllowPrivateURLs = c.SandboxMode()
	}
	c = c.WithDefaults()
	if _, ok := set["LEPUS_CONSOLE_DEV_SIGNIN"]; !ok {
		c.ConsoleDevSignIn = c.SandboxMode() && loopbackAddr(c.Addr)
	}
	return c, c.Validate()
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	c.Addr = cmp.Or(c.Addr, "127.0.0.1:8080")
	c.DataDir = cmp.Or(c.DataDir, "./lepus-data")
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	c.DatabaseURL = cmp.Or(c.DatabaseURL, filepath.Join(c.DataDir, "lepus.db"))
	c.BlobURL = cmp.Or(c.BlobURL, "file://"+filepath.ToSlash(filepath.Join(c.DataDir, "blobs")))
	c.PublicURL = strings.TrimRight(c.PublicURL, "/") // empty: derived from the bound address by serve
	c.StartingCredits = cmp.Or(c.StartingCredits, 1000)
	c.Workers = cmp.Or(c.Workers, 50)
	c.CreateCommitters = cmp.Or(c.CreateCommitters, 1)
	c.FetchPollInterval = cmp.Or(c.FetchPollInterval, time.Second)
	c.RetryBase = cmp.Or(c.RetryBase, time.Second)
	c.WebhookRetryBase = cmp.Or(c.WebhookRetryBase, 5*time.Second)
	c.ShutdownGrace = cmp.Or(c.ShutdownGrace, 20*time.Second)
	if c.EventsRecheck == 0 {
		c.EventsRecheck = 2 * time.Second
		if c.IsPostgres() {
			c.EventsRecheck = 10 * time.Second // NOTIFY wakes streams; this is the safety net
		}
	}
	c.JobTimeout = cmp.Or(c.JobTimeout, 5*time.Minute)
	c.RescueAfter = cmp.Or(c.RescueAfter, c.JobTimeout+time.Minute)
	c.LogLevel = cmp.Or(c.LogLevel, "info")
	c.LogFormat = cmp.Or(c.LogFormat, "text")
	c.Kling.BaseURL = strings.TrimRight(cmp.Or(c.Kling.BaseURL, "https://api-singapore.klingai.com"), "/")
	c.Ark.BaseURL = strings.TrimRight(cmp.Or(c.Ark.BaseURL, "https://ark.cn-beijing.volces.com/api/v3"), "/")
	c.Ark.Model = cmp.Or(c.Ark.Model, "doubao-seedream-4-0-250828")
	c.Stability.BaseURL = strings.TrimRight(cmp.Or(c.Stability.BaseURL, "https://api.stability.ai"), "/")
	if c.CORSOrigins == nil && c.SandboxMode() {
		c.CORSOrigins = []string{"*"}
	}
	c.Kling.VideoSlots = cmp.Or(c.Kling.VideoSlots, 10)
	c.Kling.ImageSlots = cmp.Or(c.Kling.ImageSlots, 10)
	c.Limits = c.Limits.withDefaults()
	costs := DefaultCosts()
	for k, v := range c.Costs {
		costs[k] = v
	}
	c.Costs = costs
	return c
}

// Validate reports every invalid field, naming its variable.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("LEPUS_ADDR: %q is not host:port", c.Addr))
	}
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, fmt.Errorf("LEPUS_PUBLIC_URL: %q is not an absolute http(s) URL", c.PublicURL))
	}
	if c.AdminToken != "" && (len(c.AdminToken) < 16 || strings.ContainsFunc(c.AdminToken, unicode.IsSpace)) {
		errs = append(errs, errors.New("LEPUS_ADMIN_TOKEN: must be at least 16 characters with no spaces"))
	}
	if c.ConsoleDevSignIn && !c.SandboxMode() {
		errs = append(errs, errors.New("LEPUS_CONSOLE_DEV_SIGNIN: the developer sign-in exists only in sandbox mode (no KLING keys)"))
	}
	if (c.Kling.AccessKey == "") != (c.Kling.SecretKey == "") {
		errs = append(errs, errors.New("KLING_ACCESS_KEY and KLING_SECRET_KEY: set both, or neither for the sandbox"))
	}
	if u, err := url.Parse(c.Kling.BaseURL); err != nil || u.Host == "" {
		errs = append(errs, fmt.Errorf("KLING_BASE_URL: %q is not an absolute URL", c.Kling.BaseURL))
	}
	if c.LLM.Configured() && (c.LLM.APIKey == "" || c.LLM.Model == "") {
		errs = append(errs, errors.New("LEPUS_LLM_API_KEY and LEPUS_LLM_MODEL: required with LEPUS_LLM_BASE_URL"))
	}
	if c.StartingCredits < 0 {
		errs = append(errs, errors.New("LEPUS_STARTING_CREDITS: must not be negative"))
	}
	if c.Workers < 1 || c.Workers > 10000 {
		errs = append(errs, errors.New("LEPUS_WORKERS: must be 1..10000"))
	}
	if c.CreateCommitters < 1 || c.CreateCommitters > 64 {
		errs = append(errs, errors.New("LEPUS_CREATE_COMMITTERS: must be 1..64"))
	}
	if c.Kling.VideoSlots < 1 {
		errs = append(errs, errors.New("KLING_VIDEO_SLOTS: must be at least 1"))
	}
	if c.Kling.ImageSlots < 1 {
		errs = append(errs, errors.New("KLING_IMAGE_SLOTS: must be at least 1"))
	}
	if c.RescueAfter < c.JobTimeout {
		errs = append(errs, errors.New("LEPUS_RESCUE_AFTER: must be at least LEPUS_JOB_TIMEOUT"))
	}
	errs = append(errs, validateOrigins(c.CORSOrigins))
	errs = append(errs, c.Limits.validate())
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LEPUS_LOG_LEVEL: %q is not debug|info|warn|error", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LEPUS_LOG_FORMAT: %q is not text|json", c.LogFormat))
	}
	if _, _, err := net.SplitHostPort(c.MetricsAddr); c.MetricsAddr != "" && err != nil {
		errs = append(errs, fmt.Errorf("LEPUS_METRICS_ADDR: %q is not host:port", c.MetricsAddr))
	}
	return errors.Join(errs...)
}

// loopbackAddr reports whether the listen address addr is reachable only
// from this machine: localhost or a loopback IP. ":8080" and "0.0.0.0:8080"
// listen on every interface; any other name might resolve anywhere.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// envParsers read the settings that are not strings, ignoring spaces
// around the text.
var envParsers = Parsers{
	reflect.TypeFor[int]():     ParseInt,
	reflect.TypeFor[float64](): ParseFloat,
	reflect.TypeFor[bool](): func(v string) (any, error) {
		v = strings.TrimSpace(v)
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%q is not true/false/1/0", v)
		}
		return b, nil
	},
	reflect.TypeFor[time.Duration](): func(v string) (any, error) {
		v = strings.TrimSpace(v)
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%q is not a duration like 500ms or 5s", v)
		}
		return d, nil
	},
	reflect.TypeFor[[]string]():       parseOrigins,
	reflect.TypeFor[map[string]int](): parseCosts,
}

// ParseInt reads a whole number, ignoring spaces around it; a Parsers
// entry for int, shared with the sandbox's settings.
func ParseInt(v string) (any, error) {
	v = strings.TrimSpace(v)
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, fmt.Errorf("%q is not a whole number", v)
	}
	return n, nil
}

// ParseFloat reads a finite number, ignoring spaces around it; a Parsers
// entry for float64, shared with the sandbox's settings.
func ParseFloat(v string) (any, error) {
	v = strings.TrimSpace(v)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%q is not a number", v)
	}
	return f, nil
}

// parseOrigins splits a comma list; "none" gives an empty list (no origin,
// even in sandbox mode). Unset, the field stays nil: the mode's default.
func parseOrigins(v string) (any, error) {
	v = strings.TrimSpace(v)
	out := []string{}
	if strings.EqualFold(v, "none") {
		return out, nil
	}
	for _, o := range strings.Split(v, ",") {
		// Browsers send an origin without a trailing slash.
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out, nil
}

// validateOrigins accepts "*" alone, or origins: scheme://host[:port] with
// no path, where the host may hold one "*" (https://*.example.com).
func validateOrigins(origins []string) error {
	for _, o := range origins {
		if o == "*" {
			if len(origins) > 1 {
				return errors.New(`LEPUS_CORS_ORIGINS: "*" allows every origin; give it alone`)
			}
			continue
		}
		u, err := url.Parse(strings.Replace(o, "*", "x", 1))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.Count(o, "*") > 1 {
			return fmt.Errorf("LEPUS_CORS_ORIGINS: %q is not an origin like https://app.example.com", o)
		}
	}
	return nil
}

// parseCosts reads "type=credits" pairs; checkCostKeys then refuses
// unknown types.
func parseCosts(v string) (any, error) {
	out := map[string]int{}
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, n, ok := strings.Cut(part, "=")
		cost, err := strconv.Atoi(strings.TrimSpace(n))
		if !ok || err != nil || cost < 0 {
			return nil, fmt.Errorf("%q is not type=credits", part)
		}
		out[strings.TrimSpace(k)] = cost
	}
	return out, nil
}
