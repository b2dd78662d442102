package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/lepus-ai/lepus/internal/config"
)

// runMigrate creates or upgrades Lepus's and River's tables.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, cfg.LogLevel)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer db.close()
	fmt.Fprintln(stdout, "migrated", db.store.Dialect(), "database")
	return nil
}
