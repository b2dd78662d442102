package job

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/lepus-ai/lepus/internal/blob"
	"github.com/lepus-ai/lepus/internal/lepus"
	"github.com/lepus-ai/lepus/internal/media/synth"
	"github.com/lepus-ai/lepus/internal/sample"
	"github.com/lepus-ai/lepus/internal/testutil/s3rver"
)

// TestProbeVideo reads a stored video's size and length from its MP4 header
// in memory and on s3rver, a real S3 server: S3 refuses a read that starts
// at the object's end (416), which once left every video on S3 at 0x0. Not
// parallel: s3rver.Start sets the AWS environment variables.
func TestProbeVideo(t *testing.T) {
	var mp4 bytes.Buffer
	img := sample.Portrait(sample.Palettes[1], 480, 320)
	if err := synth.WriteMP4(&mp4, img, 2.5, synth.MP4Options{MaxSide: 480}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		bucket func(t *testing.T) string
	}{
		{"Mem", func(*testing.T) string { return "mem://" }},
		{"S3rver", func(t *testing.T) string { return s3rver.Start(t, "lepus").BucketURL("lepus") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			b, err := blob.Open(ctx, tt.bucket(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			const key = "results/u1/t1/video-0.mp4"
			if _, err := b.Put(ctx, key, "video/mp4", bytes.NewReader(mp4.Bytes())); err != nil {
				t.Fatalf("put: %v", err)
			}

			a := &lepus.Asset{StorageKey: key}
			if err := probeVideo(ctx, b, a); err != nil {
				t.Fatalf("probeVideo: %v", err)
			}
			if a.Width != 480 || a.Height != 320 || math.Abs(a.DurationS-2.5) > 0.01 {
				t.Errorf("probed %dx%d %.3fs, want 480x320 2.5s", a.Width, a.Height, a.DurationS)
			}

			// A duration the provider reported is kept.
			a = &lepus.Asset{StorageKey: key, DurationS: 5}
			if err := probeVideo(ctx, b, a); err != nil || a.Width != 480 || a.DurationS != 5 {
				t.Errorf("with a reported duration: %dx%d %.3fs, %v; want 480x320 5s", a.Width, a.Height, a.DurationS, err)
			}
		})
	}
}
