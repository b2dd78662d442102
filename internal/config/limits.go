package config

import (
	"errors"
	"math"
)

// LimitsConfig is Lepus's fair use: how hard one user may push the API.
// Unlike other settings, 0 is a value here (the limit is off), not "use the
// default"; so FromEnv starts from the defaults before it reads the
// environment, and a LimitsConfig built in code starts with no limits.
type LimitsConfig struct {
	// Rate is each user's sustained request rate per second, over every
	// authenticated request (a token bucket per user, kept in each
	// process's memory). Default 50 (LEPUS_RATE_LIMIT); 0 turns it off.
	Rate float64 `env:"LEPUS_RATE_LIMIT"`
	// Burst is how many requests a user may send at once above Rate.
	// Default twice Rate, at least 1 (LEPUS_RATE_BURST).
	Burst int `env:"LEPUS_RATE_BURST"`
	// MaxInFlight caps each user's unfinished (pending or processing)
	// tasks, counted in the database at create, so it holds across
	// processes. Default 1000 (LEPUS_MAX_IN_FLIGHT); 0 turns it off.
	MaxInFlight int `env:"LEPUS_MAX_IN_FLIGHT"`
}

// Default fair-use limits: well above what one person using the sandbox
// by hand or with a script ever reaches.
const (
	DefaultRateLimit   = 50
	DefaultMaxInFlight = 1000
)

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
