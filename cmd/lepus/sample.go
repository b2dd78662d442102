package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lepus-ai/lepus/internal/media/synth"
	"github.com/lepus-ai/lepus/internal/sample"
)

// runSamples writes synthetic inputs to a directory, for trying Lepus
// without photos, videos or recordings at hand: two portraits (scene.png,
// face.png), a 5 s portrait video (clip.mp4) and 4 s of audio (speech.wav).
func runSamples(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("samples", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := fs.Arg(0)
	if dir == "" {
		dir = "."
	}
	var clip bytes.Buffer
	if err := synth.WriteMP4(&clip, sample.Portrait(sample.Palettes[0], 720, 960), 5, synth.MP4Options{MaxSide: 960}); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
	}{
		{"scene.png", sample.PortraitPNG(sample.Palettes[0], 640, 800)},
		{"face.png", sample.PortraitPNG(sample.Palettes[1], 640, 800)},
		{"clip.mp4", clip.Bytes()},
		{"speech.wav", synth.SineWAV(4, 16000)},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Fprintln(stdout, "wrote", path)
	}
	return nil
}
