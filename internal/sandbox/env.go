package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ConfigFromEnv returns DefaultConfig overridden by SANDBOX_* variables read
// through getenv (so the CLI, not this package, touches the environment):
//
//	SANDBOX_IMAGE_LATENCY, SANDBOX_VIDEO_LATENCY, SANDBOX_RESPONSE_DELAY
//	    durations ("3s", "250ms") or plain seconds ("1.5")
//	SANDBOX_FAILURE_RATE, SANDBOX_RESET_RATE   fractions in [0, 1]
//	SANDBOX_FAILURE_CODES                      comma list of Kling codes
//	SANDBOX_CONCURRENCY                        slots, 0 = unlimited
//	SANDBOX_IMAGE_CONCURRENCY, SANDBOX_VIDEO_CONCURRENCY
//	                                           per pool, 0 = SANDBOX_CONCURRENCY
//	SANDBOX_PUBLIC_URL                         base of result URLs
//	SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY     accepted credentials
//	SANDBOX_LLM_KEY                            accepted LLM Bearer key
//	SANDBOX_ARK_KEY, SANDBOX_ARK_IMAGES, SANDBOX_ARK_LATENCY
//	                                           the fake Ark (ark_env.go)
//	SANDBOX_STABILITY_KEY                      accepted Stability Bearer key
//	SANDBOX_RELIGHT_LATENCY, SANDBOX_STABILITY_MIN_POLL
//	                                           durations, like the latencies
//
// Errors name the variable at fault.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	durations := []struct {
		name string
		dst  *time.Duration
		zero bool // whether 0 is allowed
	}{
		{"SANDBOX_IMAGE_LATENCY", &cfg.ImageLatency, false},
		{"SANDBOX_VIDEO_LATENCY", &cfg.VideoLatency, false},
		{"SANDBOX_RESPONSE_DELAY", &cfg.ResponseDelay, true},
		{"SANDBOX_RELIGHT_LATENCY", &cfg.RelightLatency, false},
		{"SANDBOX_STABILITY_MIN_POLL", &cfg.StabilityMinPoll, false},
	}
	for _, d := range durations {
		v := strings.TrimSpace(getenv(d.name))
		if v == "" {
			continue
		}
		dur, err := parseDuration(v)
		if err != nil || dur < 0 || (dur == 0 && !d.zero) {
			return Config{}, fmt.Errorf("%s: want a positive duration such as 3s, got %q", d.name, v)
		}
		*d.dst = dur
	}
	rates := []struct {
		name string
		dst  *float64
	}{
		{"SANDBOX_FAILURE_RATE", &cfg.FailureRate},
		{"SANDBOX_RESET_RATE", &cfg.ResetRate},
	}
	for _, r := range rates {
		v := strings.TrimSpace(getenv(r.name))
		if v == "" {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			return Config{}, fmt.Errorf("%s: want a fraction in [0, 1], got %q", r.name, v)
		}
		*r.dst = f
	}
	if v := strings.TrimSpace(getenv("SANDBOX_FAILURE_CODES")); v != "" {
		cfg.FailureCodes = nil
		for part := range strings.SplitSeq(v, ",") {
			code, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || code == 0 || !knownCode(code) {
				return Config{}, fmt.Errorf("SANDBOX_FAILURE_CODES: %q is not a Kling error code", strings.TrimSpace(part))
			}
			cfg.FailureCodes = append(cfg.FailureCodes, code)
		}
	}
	counts := []struct {
		name string
		dst  *int
	}{
		{"SANDBOX_CONCURRENCY", &cfg.Concurrency},
		{"SANDBOX_IMAGE_CONCURRENCY", &cfg.ImageConcurrency},
		{"SANDBOX_VIDEO_CONCURRENCY", &cfg.VideoConcurrency},
	}
	for _, c := range counts {
		v := strings.TrimSpace(getenv(c.name))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Config{}, fmt.Errorf("%s: want a whole number >= 0, got %q", c.name, v)
		}
		*c.dst = n
	}
	if v := strings.TrimSpace(getenv("SANDBOX_PUBLIC_URL")); v != "" {
		if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			return Config{}, fmt.Errorf("SANDBOX_PUBLIC_URL: want an http(s) URL, got %q", v)
		}
		cfg.PublicURL = v
	}
	if v := getenv("SANDBOX_ACCESS_KEY"); v != "" {
		cfg.AccessKey = v
	}
	if v := getenv("SANDBOX_SECRET_KEY"); v != "" {
		cfg.SecretKey = v
	}
	if v := getenv("SANDBOX_LLM_KEY"); v != "" {
		cfg.LLMKey = v
	}
	if err := arkFromEnv(getenv, &cfg); err != nil {
		return Config{}, err
	}
	if v := getenv("SANDBOX_STABILITY_KEY"); v != "" {
		cfg.StabilityKey = v
	}
	return cfg, nil
}

// parseDuration accepts Go durations and plain seconds.
func parseDuration(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(v)
}
