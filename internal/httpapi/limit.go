package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/time/rate"
)

// RateLimit is each user's request rate: a token bucket of Burst requests
// refilled at PerSecond. A zero PerSecond turns the limit off.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// userLimiter keeps one token bucket per user id, in this process's memory:
// with several API processes a user gets the rate at each of them. (The cap
// on tasks in flight is the exact, shared limit; this one only stops a
// runaway client from flooding one process.)
type userLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu    sync.Mutex
	users map[string]*rate.Limiter
	// sweepAt is the map size that triggers dropping idle users' buckets.
	sweepAt int
}

// sweepMin is the fewest buckets kept before idle ones are dropped.
const sweepMin = 1024

func newUserLimiter(l RateLimit, now func() time.Time) *userLimiter {
	if l.PerSecond <= 0 {
		return nil
	}
	return &userLimiter{limit: rate.Limit(l.PerSecond), burst: max(1, l.Burst), now: now,
		users: map[string]*rate.Limiter{}, sweepAt: sweepMin}
}

// allow takes a token of user's bucket. When there is none it returns
// false and how long until there is.
func (u *userLimiter) allow(user string) (bool, time.Duration) {
	now := u.now()
	u.mu.Lock()
	defer u.mu.Unlock()
	lim := u.users[user]
	if lim == nil {
		if len(u.users) >= u.sweepAt {
			u.sweep(now)
		}
		lim = rate.NewLimiter(u.limit, u.burst)
		u.users[user] = lim
	}
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // a refused request spends nothing
		return false, d
	}
	return true, 0
}

// sweep drops the buckets that have refilled: a full bucket is the same as
// a new one, so forgetting it loses nothing. Memory stays proportional to
// the users active within the last Burst/PerSecond seconds.
func (u *userLimiter) sweep(now time.Time) {
	for user, lim := range u.users {
		if lim.TokensAt(now) >= float64(u.burst) {
			delete(u.users, user)
		}
	}
	u.sweepAt = max(sweepMin, 2*len(u.users))
}

// rateLimit answers 429 with Retry-After to a user over their request rate.
// It runs after authMiddleware, on secured operations only (it keys on the
// user id); a nil limiter lets everything through.
func rateLimit(api huma.API, u *userLimiter) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		user := userID(ctx.Context())
		if u == nil || user == "" {
			next(ctx)
			return
		}
		ok, wait := u.allow(user)
		if ok {
			next(ctx)
			return
		}
		secs := max(1, int(math.Ceil(wait.Seconds())))
		ctx.SetHeader("Retry-After", strconv.Itoa(secs))
		_ = huma.WriteErr(api, ctx, http.StatusTooManyRequests, fmt.Sprintf(
			"rate limit exceeded: at most %s requests per second per user (bursts of %d); retry after %d s",
			strconv.FormatFloat(float64(u.limit), 'f', -1, 64), u.burst, secs))
	}
}
