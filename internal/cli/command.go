package cli

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Env is what the client commands take from the process.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// DefaultServer is the server when neither --server nor LEPUS_SERVER
	// says, e.g. http://127.0.0.1:8080 (where `lepus serve` listens).
	DefaultServer string
	// Client overrides the HTTP client settings (tests); BaseURL and Token
	// still come from the flags and environment.
	Client ClientConfig
}

// Run runs the client subcommand name with its arguments.
func Run(ctx context.Context, name string, args []string, env Env) error {
	switch name {
	case "submit":
		return runSubmit(ctx, args, env)
	case "tasks":
		return runTasks(ctx, args, env)
	case "task":
		return runTask(ctx, args, env)
	case "cancel":
		return runCancel(ctx, args, env)
	case "credits":
		return runCredits(ctx, args, env)
	}
	return usageErrorf("unknown command %q", name)
}

// connFlags are the flags every client command has.
type connFlags struct {
	server, token string
}

func (c *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", "", "Lepus server URL (default $LEPUS_SERVER, else http://127.0.0.1:8080)")
	fs.StringVar(&c.token, "token", "", "bearer token (default $LEPUS_TOKEN; prefer the variable, a flag shows in ps)")
}

// client builds the API client from the flags, then the environment.
func (c *connFlags) client(env Env) (*Client, error) {
	cfg := env.Client
	cfg.BaseURL = cmp.Or(c.server, env.Getenv("LEPUS_SERVER"), env.DefaultServer)
	cfg.Token = strings.TrimSpace(cmp.Or(c.token, env.Getenv("LEPUS_TOKEN")))
	if cfg.Token == "" {
		return nil, usageErrorf("no token: set LEPUS_TOKEN or --token (`lepus token --user ID` prints one)")
	}
	return NewClient(cfg)
}

// newFlagSet returns a flag set whose usage prints synopsis then the flags.
func newFlagSet(name, synopsis string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: lepus %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags anywhere among the arguments (`lepus task ID
// --json` as well as `lepus task --json ID`) and returns the others.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &ExitError{Code: ExitUsage, Err: err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// noArgs parses the arguments of a command that takes flags only (tasks,
// credits); then it builds the client.
func noArgs(fs *flag.FlagSet, conn *connFlags, args []string, env Env) (*Client, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		fs.Usage()
		return nil, usageErrorf("%s: unexpected argument %q", fs.Name(), pos[0])
	}
	return conn.client(env)
}

// taskArgs parses the arguments of a command on one task (task, cancel):
// its flags and the single task id; then it builds the client.
func taskArgs(fs *flag.FlagSet, conn *connFlags, args []string, env Env) (string, *Client, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return "", nil, err
	}
	if len(pos) != 1 || pos[0] == "" {
		fs.Usage()
		return "", nil, usageErrorf("%s: want one task id, got %d arguments", fs.Name(), len(pos))
	}
	c, err := conn.client(env)
	if err != nil {
		return "", nil, err
	}
	return pos[0], c, nil
}
