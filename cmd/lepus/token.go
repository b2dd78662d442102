package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/lepus-ai/lepus/internal/auth"
	"github.com/lepus-ai/lepus/internal/config"
)

// runToken prints a bearer token signed with the configured secret.
func runToken(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "user id to put in the token's sub claim (required)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	admin := fs.Bool("admin", false, `also grant the admin area (/admin/river): adds "lepus_role": "admin"`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" {
		fs.Usage()
		return fmt.Errorf("token: --user is required")
	}
	if *ttl <= 0 {
		return fmt.Errorf("token: --ttl must be positive")
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	secret, err := auth.LoadOrCreateSecret(cfg.JWTSecret, cfg.DataDir)
	if err != nil {
		return err
	}
	signer, err := auth.NewSigner(secret, time.Now)
	if err != nil {
		return err
	}
	sign := signer.Sign
	if *admin {
		sign = signer.SignAdmin
	}
	tok, err := sign(*user, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
