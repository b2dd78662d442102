package main

import (
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/sandbox"
)

// BenchmarkOutfitShotVariations measures one outfit-shot task of 1 and of
// 4 variations against the sandbox with a fixed provider latency L, and
// reports each task's wall time as a multiple of L. Run it with
//
//	go test -run '^$' -bench OutfitShot -benchtime 1x ./cmd/lepus
//
// Variations run in parallel, so 4 should take about one L, not four (the
// old system made them one after another: 4 × L).
func BenchmarkOutfitShotVariations(b *testing.B) {
	const latency = 3 * time.Second
	for _, n := range []int{1, 4} {
		b.Run(map[int]string{1: "1variation", 4: "4variations"}[n], func(b *testing.B) {
			s, _ := startLive(b, func(c *sandbox.Config) { c.ImageLatency = latency }, nil)
			tok := s.token(b, "bench")
			_, g := s.upload(b, tok, sample.PortraitPNG(sample.Palettes[1], 400, 500))
			var total time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				done := s.run(b, tok, "/enhance-style/outfit-shot", map[string]any{"garment_image_url": g.URL, "variations": n})
				total += time.Since(start)
				if len(done.Assets) != n {
					b.Fatalf("%d assets, want %d", len(done.Assets), n)
				}
			}
			per := total / time.Duration(b.N)
			b.ReportMetric(per.Seconds()/latency.Seconds(), "x_latency")
			b.ReportMetric(float64(n)*latency.Seconds()/per.Seconds(), "speedup_vs_serial")
		})
	}
}
