package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// runMigrate creates or upgrades Lepus's and River's tables.
func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg, logger, err := loadConfig(fs, args, getenv, stderr)
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
