package sandbox

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/internal/config"
)

// envVars are the variables ConfigFromEnv reads. Each field points at the
// Config field its variable sets, so an unset variable leaves that field as
// it is. (Config has no env tags of its own: it is mostly built in code.)
type envVars struct {
	AccessKey        *string        `env:"SANDBOX_ACCESS_KEY"` // accepted credentials
	SecretKey        *string        `env:"SANDBOX_SECRET_KEY"`
	ImageLatency     *time.Duration `env:"SANDBOX_IMAGE_LATENCY"` // durations ("3s", "250ms") or plain seconds ("1.5")
	VideoLatency     *time.Duration `env:"SANDBOX_VIDEO_LATENCY"`
	ResponseDelay    *time.Duration `env:"SANDBOX_RESPONSE_DELAY"` // the only one that may be 0
	FailureRate      *float64       `env:"SANDBOX_FAILURE_RATE"`   // fractions in [0, 1]
	ResetRate        *float64       `env:"SANDBOX_RESET_RATE"`
	FailureCodes     *[]int         `env:"SANDBOX_FAILURE_CODES"`     // comma list of Kling codes
	Concurrency      *int           `env:"SANDBOX_CONCURRENCY"`       // slots, 0 = unlimited
	ImageConcurrency *int           `env:"SANDBOX_IMAGE_CONCURRENCY"` // per pool, 0 = SANDBOX_CONCURRENCY
	VideoConcurrency *int           `env:"SANDBOX_VIDEO_CONCURRENCY"`
	PublicURL        *string        `env:"SANDBOX_PUBLIC_URL"` // base of result URLs
	Addr             *string        `env:"SANDBOX_ADDR"`       // where lepus serve starts it
	LLMKey           *string        `env:"SANDBOX_LLM_KEY"`    // accepted LLM Bearer key
	ArkKey           *string        `env:"SANDBOX_ARK_KEY"`    // accepted Ark Bearer key
	ArkImages        *int           `env:"SANDBOX_ARK_IMAGES"` // images per sequential Ark request, 1–15
	ArkLatency       *time.Duration `env:"SANDBOX_ARK_LATENCY"`
	StabilityKey     *string        `env:"SANDBOX_STABILITY_KEY"` // accepted Stability Bearer key
	RelightLatency   *time.Duration `env:"SANDBOX_RELIGHT_LATENCY"`
	StabilityMinPoll *time.Duration `env:"SANDBOX_STABILITY_MIN_POLL"`
}

// ConfigFromEnv returns DefaultConfig overridden by the SANDBOX_* variables
// (envVars) read through getenv, so the CLI, not this package, touches the
// environment. Errors name the variable at fault.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	set, err := config.ParseEnv(&envVars{
		AccessKey:        &cfg.AccessKey,
		SecretKey:        &cfg.SecretKey,
		ImageLatency:     &cfg.ImageLatency,
		VideoLatency:     &cfg.VideoLatency,
		ResponseDelay:    &cfg.ResponseDelay,
		FailureRate:      &cfg.FailureRate,
		ResetRate:        &cfg.ResetRate,
		FailureCodes:     &cfg.FailureCodes,
		Concurrency:      &cfg.Concurrency,
		ImageConcurrency: &cfg.ImageConcurrency,
		VideoConcurrency: &cfg.VideoConcurrency,
		PublicURL:        &cfg.PublicURL,
		Addr:             &cfg.Addr,
		LLMKey:           &cfg.LLMKey,
		ArkKey:           &cfg.ArkKey,
		ArkImages:        &cfg.ArkImages,
		ArkLatency:       &cfg.ArkLatency,
		StabilityKey:     &cfg.StabilityKey,
		RelightLatency:   &cfg.RelightLatency,
		StabilityMinPoll: &cfg.StabilityMinPoll,
	}, getenv, envParsers)
	if err != nil {
		return Config{}, err
	}
	cfg.PublicURL = strings.TrimSpace(cfg.PublicURL)
	const positive, count = "a positive duration such as 3s", "a whole number >= 0"
	// Every default passes these, so a failed check quotes a set variable.
	var errs []error
	for _, c := range []struct {
		name string
		ok   bool
		want string
	}{
		{"SANDBOX_IMAGE_LATENCY", cfg.ImageLatency > 0, positive},
		{"SANDBOX_VIDEO_LATENCY", cfg.VideoLatency > 0, positive},
		{"SANDBOX_RELIGHT_LATENCY", cfg.RelightLatency > 0, positive},
		{"SANDBOX_STABILITY_MIN_POLL", cfg.StabilityMinPoll > 0, positive},
		{"SANDBOX_ARK_LATENCY", cfg.ArkLatency > 0, positive},
		{"SANDBOX_FAILURE_RATE", cfg.FailureRate >= 0 && cfg.FailureRate <= 1, "a fraction in [0, 1]"},
		{"SANDBOX_RESET_RATE", cfg.ResetRate >= 0 && cfg.ResetRate <= 1, "a fraction in [0, 1]"},
		{"SANDBOX_CONCURRENCY", cfg.Concurrency >= 0, count},
		{"SANDBOX_IMAGE_CONCURRENCY", cfg.ImageConcurrency >= 0, count},
		{"SANDBOX_VIDEO_CONCURRENCY", cfg.VideoConcurrency >= 0, count},
		{"SANDBOX_ARK_IMAGES", cfg.ArkImages >= 1 && cfg.ArkImages <= arkGroupMax, fmt.Sprintf("a whole number in [1, %d]", arkGroupMax)},
		{"SANDBOX_PUBLIC_URL", cfg.PublicURL == "" || strings.HasPrefix(cfg.PublicURL, "http://") ||
			strings.HasPrefix(cfg.PublicURL, "https://"), "an http(s) URL"},
	} {
		if !c.ok {
			errs = append(errs, fmt.Errorf("%s: want %s, got %q", c.name, c.want, set[c.name]))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// envParsers read envVars' non-string types, ignoring spaces around the
// text; the ranges are checked in ConfigFromEnv.
var envParsers = config.Parsers{
	reflect.TypeFor[time.Duration](): func(v string) (any, error) {
		v = strings.TrimSpace(v)
		d, err := parseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("want a positive duration such as 3s, got %q", v)
		}
		return d, nil
	},
	reflect.TypeFor[float64](): config.ParseFloat,
	reflect.TypeFor[int]():     config.ParseInt,
	// []int is only SANDBOX_FAILURE_CODES.
	reflect.TypeFor[[]int](): func(v string) (any, error) {
		var codes []int
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			code, err := strconv.Atoi(part)
			if err != nil || code == 0 || !knownCode(code) {
				return nil, fmt.Errorf("%q is not a Kling error code", part)
			}
			codes = append(codes, code)
		}
		return codes, nil
	},
}

// parseDuration accepts Go durations and plain seconds.
func parseDuration(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(v)
}
