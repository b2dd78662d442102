package main

import (
	"fmt"
	"io"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/apiclient"
	"github.com/lepus-ai/lepus/bench/internal/load"
	"github.com/lepus-ai/lepus/bench/internal/provider"
)

// runData is everything measured, handed to the report.
type runData struct {
	o           options
	database    string
	base        snapshot // idle, before the first submit
	live        liveMem
	samples     []snapshot // every sample of the run
	sub         submitted
	tasks       []apiclient.TaskView       // completed tasks from the API
	cdn         map[string]provider.CDNHit // result downloads by provider task id
	lepusCPU    time.Duration              // child CPU from the first submit to the end
	harnessCPU  time.Duration              // this process's CPU, same interval
	postgresCPU time.Duration              // the Postgres server's CPU, same interval (-db only)
}

// liveMem is the child's heap and stacks in use right after a forced GC,
// idle and while all n tasks wait at the provider (0: not measured).
type liveMem struct {
	idleHeapKB, idleStackKB int64
	waitHeapKB, waitStackKB int64
}

// phases is one task's time split at the points both sides record.
type phases struct {
	pickup  time.Duration // API accepted → provider accepted (River fetch + submit step)
	detect  time.Duration // provider done (started + L) → result download starts (poll granularity)
	collect time.Duration // result download starts → task completed (download, store, DB)
	over    time.Duration // finished − created − L
}

// print writes the results as a Markdown table (pasted verbatim into
// BENCHMARKS.md), after checking that every task completed with its asset.
func (d runData) print(w io.Writer) error {
	n, L, P := d.o.n, d.o.latency, d.o.pollInterval()
	if len(d.tasks) != n {
		return fmt.Errorf("the API lists %d completed tasks, want %d", len(d.tasks), n)
	}
	var per []phases
	var lastDone time.Time
	var last phases
	var lastCreated time.Time
	for _, t := range d.tasks {
		if t.StartedAt == nil || t.FinishedAt == nil || len(t.Assets) != 1 {
			return fmt.Errorf("task %s completed without start, finish or its one asset: %+v", t.ID, t)
		}
		stage := "image"
		if d.o.workflow == workflowImageToVideo {
			stage = "video"
		}
		hit, ok := d.cdn[t.ProviderTaskIDs[stage]]
		if !ok {
			return fmt.Errorf("task %s: no result download recorded for provider task %q", t.ID, t.ProviderTaskIDs[stage])
		}
		ready := t.StartedAt.Add(L)
		ph := phases{
			pickup:  t.StartedAt.Sub(t.CreatedAt),
			detect:  hit.Start.Sub(ready),
			collect: t.FinishedAt.Sub(hit.Start),
			over:    t.FinishedAt.Sub(t.CreatedAt) - L,
		}
		per = append(per, ph)
		if t.FinishedAt.After(lastDone) {
			lastDone, last, lastCreated = *t.FinishedAt, ph, t.CreatedAt
		}
	}
	total := lastDone.Sub(d.sub.first)
	var cdnTook []time.Duration
	for _, h := range d.cdn {
		cdnTook = append(cdnTook, h.Took)
	}
	transfer := pct(cdnTook, 0.5)
	floor := 1 + (d.sub.span()+P/2+transfer).Seconds()/L.Seconds()

	// In flight: every task accepted by the provider, none ended there yet.
	var all, waiting []snapshot
	for _, s := range d.samples {
		if s.at.Before(d.sub.first) {
			continue
		}
		all = append(all, s)
		if s.sandboxRunning == n {
			waiting = append(waiting, s)
		}
	}
	maxOf := func(ss []snapshot, f func(snapshot) int64) int64 {
		var m int64
		for _, s := range ss {
			m = max(m, f(s))
		}
		return m
	}
	rss := func(s snapshot) int64 { return s.rssKB }
	waitRSS := maxOf(waiting, rss)
	peakRSS := maxOf(all, func(s snapshot) int64 { return s.hwmKB })
	perTask := func(kb int64) string {
		if kb == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f KB", float64(kb-d.base.rssKB)/float64(n))
	}

	row := func(k string, v any) { fmt.Fprintf(w, "| %s | %v |\n", k, v) }
	fmt.Fprintf(w, "\n| metric | value |\n|---|---|\n")
	row("tasks in flight (n)", fmt.Sprintf("%d %s", n, d.o.workflow))
	row("provider latency L / poll interval P", fmt.Sprintf("%s / %s", L, P))
	row("database", d.database)
	row("submit: requests/s (n / first send → last 202)", fmt.Sprintf("%.0f (%s for %d)", d.sub.rps(), ms(d.sub.span()), n))
	row("submit latency p50 / p99 / max", fmt.Sprintf("%s / %s / %s", ms(pct(d.sub.latencies, 0.5)), ms(pct(d.sub.latencies, 0.99)), ms(pct(d.sub.latencies, 1))))
	row("max sandbox running (in flight at the provider)", maxOf(all, func(s snapshot) int64 { return int64(s.sandboxRunning) }))
	exec := func(s snapshot) int64 { return int64(s.executing) }
	var sum int64
	for _, s := range waiting {
		sum += exec(s)
	}
	mean := float64(sum) / float64(max(1, len(waiting)))
	row("jobs executing (in Lepus's worker; LEPUS_WORKERS 50): mean / max while all n wait; max", fmt.Sprintf("%.1f / %d; %d", mean, maxOf(waiting, exec), maxOf(all, exec)))
	row("max River jobs in state running (incl. completions not yet written)", maxOf(all, func(s snapshot) int64 { return int64(s.riverRunning) }))
	row("goroutines: idle / max while all n wait / max", fmt.Sprintf("%d / %d / %d", d.base.goroutines,
		maxOf(waiting, func(s snapshot) int64 { return int64(s.goroutines) }), maxOf(all, func(s snapshot) int64 { return int64(s.goroutines) })))
	row("RSS: idle / max while all n wait / peak (VmHWM)", fmt.Sprintf("%s / %s / %s", mb(d.base.rssKB), mb(waitRSS), mb(peakRSS)))
	row("RSS per in-flight task: (wait max − idle)/n; (peak − idle)/n", perTask(waitRSS)+"; "+perTask(peakRSS))
	row("Go heap in use: idle / max while all n wait", fmt.Sprintf("%s / %s", mb(d.base.heapInuseKB), mb(maxOf(waiting, func(s snapshot) int64 { return s.heapInuseKB }))))
	if lm := d.live; lm.waitHeapKB > 0 {
		idle, wait := lm.idleHeapKB+lm.idleStackKB, lm.waitHeapKB+lm.waitStackKB
		row("live heap + stacks after a forced GC: idle / all n waiting", fmt.Sprintf("%s / %s (%.1f KB per task)", mb(idle), mb(wait), float64(wait-idle)/float64(n)))
	}
	row("samples while all n wait at the provider", fmt.Sprintf("%d of %d (every 500 ms)", len(waiting), len(all)))
	row("total time (first submit → last finished_at)", secs(total))
	row("total / L", fmt.Sprintf("%.3f", total.Seconds()/L.Seconds()))
	row("floor: 1 + (submit span + P/2 + transfer)/L", fmt.Sprintf("%.3f (span %s, P/2 %s, transfer %s)", floor, secs(d.sub.span()), secs(P/2), ms(transfer)))
	row("per task p50 / max: accepted → provider accepted", p50max(per, func(p phases) time.Duration { return p.pickup }))
	row("per task p50 / max: provider done → result fetched", p50max(per, func(p phases) time.Duration { return p.detect }))
	row("per task p50 / max: result fetched → completed", p50max(per, func(p phases) time.Duration { return p.collect }))
	row("per task p50 / max: (finished − created) − L", p50max(per, func(p phases) time.Duration { return p.over }))
	row("result download served by the provider p50 / max", fmt.Sprintf("%s / %s", ms(transfer), ms(pct(cdnTook, 1))))
	row("last task: accepted at / + pickup / + L / + detect / + collect", fmt.Sprintf("%s / %s / %s / %s / %s",
		secs(lastCreated.Sub(d.sub.first)), secs(last.pickup), secs(L), secs(last.detect), secs(last.collect)))
	row("lepus CPU (utime+stime), first submit → end", fmt.Sprintf("%s (%.0f%% of one core over %s)", secs(d.lepusCPU), 100*d.lepusCPU.Seconds()/total.Seconds(), secs(total)))
	if len(waiting) > 1 {
		a, b := waiting[0], waiting[len(waiting)-1]
		frac := (b.cpu - a.cpu).Seconds() / b.at.Sub(a.at).Seconds()
		pollsPerSec := float64(n) / P.Seconds()
		row("lepus CPU while all n wait (polling only)", fmt.Sprintf("%.1f%% of one core (≈ %.2f ms per poll at n/P = %.0f polls/s)", 100*frac, 1000*frac/pollsPerSec, pollsPerSec))
	}
	if d.postgresCPU > 0 {
		row("Postgres server CPU, same span", fmt.Sprintf("%s (%.0f%% of one core)", secs(d.postgresCPU), 100*d.postgresCPU.Seconds()/total.Seconds()))
	}
	row("harness CPU (sandbox renders + clients), same span", fmt.Sprintf("%s (%.0f%% of one core)", secs(d.harnessCPU), 100*d.harnessCPU.Seconds()/total.Seconds()))
	return nil
}

// pct is the p-quantile (nearest rank) of ds; 1 is the maximum.
var pct = load.Quantile

func p50max(per []phases, f func(phases) time.Duration) string {
	ds := make([]time.Duration, len(per))
	for i, p := range per {
		ds[i] = f(p)
	}
	return fmt.Sprintf("%s / %s", secs(pct(ds, 0.5)), secs(pct(ds, 1)))
}

func ms(d time.Duration) string   { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
func mb(kb int64) string          { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }
