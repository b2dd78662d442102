package webhook

import (
	"cmp"
	"time"
)

// DefaultRetryBase is the first retry delay.
const DefaultRetryBase = 5 * time.Second

// retrySteps are the delays before retries 1…7, in units of the retry base
// (5 s by default): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, the schedule
// Standard Webhooks suggests. With the default base the last attempt comes
// about 27.6 hours after the first: a receiver that is down for a day
// still gets every event.
var retrySteps = []time.Duration{1, 60, 360, 1440, 3600, 7200, 7200}

// MaxAttempts is the first delivery plus one per retry step.
var MaxAttempts = len(retrySteps) + 1

// RetryDelay returns the delay after failed attempt n (1-based) with the
// given base (DefaultRetryBase if zero); past the schedule, the last step.
func RetryDelay(base time.Duration, n int) time.Duration {
	base = cmp.Or(base, DefaultRetryBase)
	i := min(max(n, 1), len(retrySteps)) - 1
	return base * retrySteps[i]
}
