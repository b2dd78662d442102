package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// LimitsConfig is Lepus's fair use: how hard one user may push the API.
// Unlike other settings, 0 is a value here (the limit is off), not "use the
// default"; so the defaults are applied where the environment is read
// (limitsFromEnv), and a LimitsConfig built in code starts with no limits.
type LimitsConfig struct {
	// Rate is each user's sustained request rate per second, over every
	// authenticated request (a token bucket per user, kept in each
	// process's memory). Default 50 (LEPUS_RATE_LIMIT); 0 turns it off.
	Rate float64
	// Burst is how many requests a user may send at once above Rate.
	// Default twice Rate, at least 1 (LEPUS_RATE_BURST).
	Burst int
	// MaxInFlight caps each user's unfinished (pending or processing)
	// tasks, counted in the database at create, so it holds across
	// processes. Default 1000 (LEPUS_MAX_IN_FLIGHT); 0 turns it off.
	MaxInFlight int
}

// Default fair-use limits: well above what one person using the sandbox
// by hand or with a script ever reaches.
const (
	DefaultRateLimit   = 50
	DefaultMaxInFlight = 1000
)

// limitsFromEnv reads LEPUS_RATE_LIMIT, LEPUS_RATE_BURST and
// LEPUS_MAX_IN_FLIGHT; an unset variable takes its default.
func limitsFromEnv(getenv func(string) string) (LimitsConfig, error) {
	l := LimitsConfig{Rate: DefaultRateLimit, MaxInFlight: DefaultMaxInFlight}
	var errs []error
	if v := strings.TrimSpace(getenv("LEPUS_RATE_LIMIT")); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
			errs = append(errs, fmt.Errorf("LEPUS_RATE_LIMIT: %q is not a number of requests per second", v))
		}
		l.Rate = r
	}
	burst, err := parseInt("LEPUS_RATE_BURST", getenv)
	errs = append(errs, err)
	l.Burst = burst
	if strings.TrimSpace(getenv("LEPUS_MAX_IN_FLIGHT")) != "" {
		l.MaxInFlight, err = parseInt("LEPUS_MAX_IN_FLIGHT", getenv)
		errs = append(errs, err)
	}
	return l, errors.Join(errs...)
}

// withDefaults derives Burst from Rate when it is unset.
func (l LimitsConfig) withDefaults() LimitsConfig {
	if l.Burst == 0 && l.Rate > 0 {
		l.Burst = max(1, int(math.Ceil(2*l.Rate)))
	}
	return l
}

// validate names the variable of each invalid limit.
func (l LimitsConfig) validate() error {
	var errs []error
	if l.Rate < 0 {
		errs = append(errs, errors.New("LEPUS_RATE_LIMIT: must not be negative (0 turns the rate limit off)"))
	}
	if l.Burst < 0 {
		errs = append(errs, errors.New("LEPUS_RATE_BURST: must not be negative"))
	}
	if l.MaxInFlight < 0 {
		errs = append(errs, errors.New("LEPUS_MAX_IN_FLIGHT: must not be negative (0 turns the cap off)"))
	}
	return errors.Join(errs...)
}
