package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/load"
)

// printHeader writes the head of the results table.
func printHeader(w io.Writer) {
	cols := []string{"run", "layout", "M", "K", "L", "load avg at start", "makespan", "ratio to ⌈M/K⌉·L",
		"creates/s", "finished − created p50 / p99", "provider creates / 1303s"}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
}

// measured is one run's numbers.
type measured struct {
	load       string
	makespan   time.Duration
	createRate float64 // creates answered per second
	p50, p99   time.Duration
	creates    int
	busy       int
}

// measure checks the run's data and computes its numbers.
func (r *result) measure(o options) (*measured, error) {
	if len(r.tasks) != o.m {
		return nil, fmt.Errorf("the API lists %d completed tasks, want %d", len(r.tasks), o.m)
	}
	var last time.Time
	var took []time.Duration
	for _, t := range r.tasks {
		if t.FinishedAt == nil || len(t.Assets) != 1 {
			return nil, fmt.Errorf("task %s completed without finish time or its one asset", t.ID)
		}
		took = append(took, t.FinishedAt.Sub(t.CreatedAt))
		if t.FinishedAt.After(last) {
			last = *t.FinishedAt
		}
	}
	return &measured{
		load:       r.load,
		makespan:   last.Sub(r.first),
		createRate: float64(o.m) / r.lastCreate.Sub(r.first).Seconds(),
		p50:        pct(took, 0.5),
		p99:        pct(took, 0.99),
		creates:    r.creates,
		busy:       r.busy,
	}, nil
}

// row formats m as one table row.
func (m *measured) row(o options, l layout, index int) string {
	cells := []string{
		fmt.Sprint(index), l.String(), fmt.Sprint(o.m), fmt.Sprint(o.k), o.latency.String(), m.load,
		secs(m.makespan), fmt.Sprintf("%.3f", m.makespan.Seconds()/o.ideal().Seconds()),
		fmt.Sprintf("%.1f", m.createRate), fmt.Sprintf("%s / %s", secs(m.p50), secs(m.p99)),
		fmt.Sprintf("%d / %d", m.creates, m.busy),
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

// pct is the p-quantile (nearest rank) of ds; 1 is the maximum.
var pct = load.Quantile

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
