package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/load"
)

// printHeader writes the head of the results table.
func printHeader(w io.Writer) {
	cols := []string{"run", "M", "K", "L", "db", "callbacks", "load avg at start", "makespan", "ratio (goal)",
		"B2 finished − created − L p50 / p99", "created → provider p50 / p99 (goal p50 ≤ 50 ms)",
		"provider ended → finished p50 / p99", "slot handover: provider ended → next accepted p50 / p99", "B6 all K busy while queued (goal ≥ 0.95)", "creates / 1303s"}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
}

// measure checks the run's data and formats it as one table row.
func (r *result) measure(o options) (string, error) {
	n, L := o.tasks(), o.latency
	if len(r.tasks) != n {
		return "", fmt.Errorf("the API lists %d completed tasks, want %d", len(r.tasks), n)
	}
	if len(r.prov) != n {
		return "", fmt.Errorf("the provider has %d tasks, want %d (one each)", len(r.prov), n)
	}
	var (
		over, toProvider, afterEnd []time.Duration
		created, accepted          []time.Time
		last                       time.Time
	)
	for _, t := range r.tasks {
		if t.FinishedAt == nil || len(t.Assets) != 1 {
			return "", fmt.Errorf("task %s completed without finish time or its one asset", t.ID)
		}
		pt, ok := r.prov[t.ProviderTaskIDs["image"]]
		if !ok || !pt.succeeded || pt.ended.IsZero() {
			return "", fmt.Errorf("task %s: provider task %q unknown or not succeeded", t.ID, t.ProviderTaskIDs["image"])
		}
		recv, ok := r.received[pt.externalID]
		if !ok {
			return "", fmt.Errorf("task %s: no create received for external id %q", t.ID, pt.externalID)
		}
		over = append(over, t.FinishedAt.Sub(t.CreatedAt)-L)
		toProvider = append(toProvider, recv.Sub(t.CreatedAt))
		afterEnd = append(afterEnd, t.FinishedAt.Sub(pt.ended))
		created = append(created, t.CreatedAt)
		accepted = append(accepted, pt.accepted)
		if t.FinishedAt.After(last) {
			last = *t.FinishedAt
		}
	}
	makespan := last.Sub(r.first)
	goal := "≤ 1.10"
	if o.callbacks {
		goal = "≤ 1.05"
	}
	mcol := fmt.Sprint(o.m)
	b6, handover := "n/a (serial)", "n/a (serial)"
	if o.serial > 0 {
		mcol, goal = fmt.Sprintf("%d serial", o.serial), "vs N·L"
	} else {
		b6 = slotUse(r.slots, created, accepted, o.k, r.first, last)
		handover = handovers(r.prov, o.k)
	}
	db := "SQLite"
	if o.db != "" {
		db = "Postgres"
	}
	cb := "off (polling)"
	if o.callbacks {
		cb = "on"
	}
	cells := []string{
		fmt.Sprint(r.index), mcol, fmt.Sprint(o.k), L.String(), db, cb, r.load,
		secs(makespan), fmt.Sprintf("%.3f (%s)", makespan.Seconds()/o.ideal().Seconds(), goal),
		p50p99(over), p50p99(toProvider), p50p99(afterEnd), handover, b6,
		fmt.Sprintf("%d / %d", r.creates, r.busy),
	}
	return "| " + strings.Join(cells, " | ") + " |", nil
}

// slotUse is B6: of the slot samples taken while some task was created but
// not yet accepted by the provider (from first create sent to last
// finished), the fraction with all k slots in use.
func slotUse(ss []slotSample, created, accepted []time.Time, k int, from, to time.Time) string {
	slices.SortFunc(created, time.Time.Compare)
	slices.SortFunc(accepted, time.Time.Compare)
	upTo := func(ts []time.Time, at time.Time) int {
		return sort.Search(len(ts), func(i int) bool { return ts[i].After(at) })
	}
	queued, full := 0, 0
	for _, s := range ss {
		if s.at.Before(from) || s.at.After(to) {
			continue
		}
		if upTo(created, s.at)-upTo(accepted, s.at) <= 0 {
			continue
		}
		queued++
		if s.inUse >= k {
			full++
		}
	}
	if queued == 0 {
		return "n/a (no queued samples)"
	}
	return fmt.Sprintf("%.3f (%d of %d samples)", float64(full)/float64(queued), full, queued)
}

// handovers is how long a provider slot stays free between two tasks:
// with every slot taken in turn, the (k+i)-th acceptance uses the slot the
// i-th ended task freed. Times are the provider's, in ms.
func handovers(prov map[string]providerTask, k int) string {
	var accepted, ended []time.Time
	for _, pt := range prov {
		accepted, ended = append(accepted, pt.accepted), append(ended, pt.ended)
	}
	slices.SortFunc(accepted, time.Time.Compare)
	slices.SortFunc(ended, time.Time.Compare)
	var gaps []time.Duration
	for i := 0; k+i < len(accepted); i++ {
		gaps = append(gaps, accepted[k+i].Sub(ended[i]))
	}
	if len(gaps) == 0 {
		return "n/a (M ≤ K)"
	}
	return p50p99(gaps)
}

// pct is the p-quantile (nearest rank) of ds; 1 is the maximum.
var pct = load.Quantile

func p50p99(ds []time.Duration) string {
	return fmt.Sprintf("%s / %s", dur(pct(ds, 0.5)), dur(pct(ds, 0.99)))
}

// dur prints short durations in ms, long ones in s.
func dur(d time.Duration) string {
	if d > -time.Second && d < time.Second {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return secs(d)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
