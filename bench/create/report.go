package main

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/load"
)

// Goals of the issue: Lepus accepts creates at half the database's limit
// or better, and its p99 is within three limit-paced rounds of the
// clients (clients ÷ limit is how long one round of every client's
// transaction takes at the limit).
const (
	goalRate = 0.5
	goalP99  = 3
)

// report is everything measured, printed as Markdown.
type report struct {
	o        options
	rev      string // the commit lepus was built from
	database string
	load     string // load average at start
	noop     load.Result
	limit    load.Result // the DB work alone
	lepus    load.Result
	paused   int // River jobs still available after the load
}

func (r report) print(w io.Writer) {
	fmt.Fprintf(w, "create: %s %s/%s, nproc %d, load average %s at start; lepus at commit %s; database %s; %d clients, %d requests per phase after %d warm-up\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), r.load, r.rev, r.database, r.o.clients, r.o.n, r.o.warmup)
	fmt.Fprintf(w, "| phase | requests/s | p50 | p99 |\n|---|---|---|---|\n")
	for _, p := range []struct {
		name string
		res  load.Result
	}{{"no-op", r.noop}, {"DB work alone (the limit)", r.limit}, {"Lepus", r.lepus}} {
		fmt.Fprintf(w, "| %s | %.0f | %s | %s |\n", p.name, p.res.Rate(), ms(p.res.Quantile(0.5)), ms(p.res.Quantile(0.99)))
	}

	limit := r.limit.Rate()
	rate := r.lepus.Rate() / limit
	bound := time.Duration(goalP99 * float64(r.o.clients) / limit * float64(time.Second))
	p99 := r.lepus.Quantile(0.99)
	fmt.Fprintf(w, "\n| ratio | value | goal |\n|---|---|---|\n")
	fmt.Fprintf(w, "| Lepus ÷ limit | %.2f | ≥ %.1f (%s) |\n", rate, goalRate, verdict(rate >= goalRate))
	fmt.Fprintf(w, "| p99 ÷ (3 × %d ÷ limit) | %.2f (p99 %s, bound %s) | ≤ 1 (%s) |\n",
		r.o.clients, p99.Seconds()/bound.Seconds(), ms(p99), ms(bound), verdict(p99 <= bound))
	fmt.Fprintf(w, "\nRiver's queue stayed paused: %d face swap jobs still available after the load (warm-up + n).\n", r.paused)
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "missed"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
