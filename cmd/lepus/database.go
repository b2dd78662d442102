package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lepus-ai/lepus/internal/config"
	"github.com/lepus-ai/lepus/internal/job"
	"github.com/lepus-ai/lepus/internal/logging"
	"github.com/lepus-ai/lepus/internal/sqlstore"
)

// database is the opened, migrated store plus, on Postgres, the pgx pool
// that carries River's LISTEN connection.
type database struct {
	store    *sqlstore.Store
	listener *pgxpool.Pool
	unlock   func() // releases the SQLite data dir's lock
}

func (d *database) queueConfig(cfg config.Config, logger *slog.Logger) job.QueueConfig {
	return job.QueueConfig{
		// River's housekeeping (client, elector, producers, maintenance)
		// logs routine lines at info: they go out at debug.
		Dialect: d.store.Dialect(), ListenerPool: d.listener, Logger: logging.Quiet(logger),
		FetchPollInterval: cfg.FetchPollInterval, RetryBase: cfg.RetryBase,
		JobTimeout: cfg.JobTimeout, RescueAfter: cfg.RescueAfter,
	}
}

func (d *database) close() {
	if d.listener != nil {
		d.listener.Close()
	}
	if d.store != nil {
		_ = d.store.Close()
	}
	if d.unlock != nil {
		d.unlock()
	}
}

// openDatabase opens the configured database and migrates River's tables,
// then Lepus's, so the process starts on the current schema (lepus serve,
// lepus migrate). openMigrated is for the roles that never migrate.
func openDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*database, error) {
	return open(ctx, cfg, logger, true)
}

// openMigrated opens the database and refuses to go on unless both
// River's and Lepus's tables are current: lepus api and lepus worker leave
// migrations to one lepus migrate, so many of them can start at once.
func openMigrated(ctx context.Context, cfg config.Config, logger *slog.Logger) (*database, error) {
	return open(ctx, cfg, logger, false)
}

func open(ctx context.Context, cfg config.Config, logger *slog.Logger, migrate bool) (*database, error) {
	d := &database{}
	if !cfg.IsPostgres() {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil { // holds the database and the JWT secret
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		unlock, err := lockDataDir(cfg.DataDir, cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		d.unlock = unlock
	}
	store, err := sqlstore.Open(ctx, cfg.DatabaseURL, sqlstore.Options{Logger: logger, CreateCommitters: cfg.CreateCommitters})
	if err != nil {
		d.close()
		return nil, err
	}
	d.store = store
	if cfg.IsPostgres() {
		// Enough for the workers and the API; many processes share one server.
		store.DB().SetMaxOpenConns(25)
		store.DB().SetMaxIdleConns(25)
		if d.listener, err = pgxpool.New(ctx, cfg.DatabaseURL); err != nil {
			d.close()
			return nil, fmt.Errorf("postgres listener pool: %w", err)
		}
	}
	if !migrate {
		err := errors.Join(job.CheckMigrated(ctx, store.DB(), d.queueConfig(cfg, logger)), store.CheckMigrated(ctx))
		if err != nil {
			d.close()
			return nil, fmt.Errorf("%w: run `lepus migrate` first", err)
		}
		return d, nil
	}
	if err := job.Migrate(ctx, store.DB(), d.queueConfig(cfg, logger)); err != nil {
		d.close()
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

// loadConfig parses a subcommand's flags, reads the configuration and
// builds the logger: the start of every subcommand that uses the database.
func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string, stderr io.Writer) (config.Config, *slog.Logger, error) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return config.Config{}, nil, err
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return config.Config{}, nil, err
	}
	logger, err := logging.New(stderr, cfg.LogFormat, cfg.LogLevel)
	return cfg, logger, err
}

// newLogger returns a text logger at the given level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	return logging.New(w, logging.FormatText, level)
}
