package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lepus-ai/lepus/internal/sample"
)

// runSampleImages writes two synthetic portraits (scene.png, face.png) to a
// directory, for trying Lepus without photos at hand.
func runSampleImages(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sample-images", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := fs.Arg(0)
	if dir == "" {
		dir = "."
	}
	for i, name := range []string{"scene.png", "face.png"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, sample.PortraitPNG(sample.Palettes[i], 640, 800), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Fprintln(stdout, "wrote", path)
	}
	return nil
}
