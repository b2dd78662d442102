package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv_Defaults(t *testing.T) {
	t.Parallel()
	c, err := FromEnv(env(map[string]string{"LEPUS_DATA_DIR": "/srv/lepus"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DatabaseURL != filepath.Join("/srv/lepus", "lepus.db") ||
		c.BlobURL != "file:///srv/lepus/blobs" || c.PublicURL != "" || c.Workers != 50 {
		t.Fatalf("defaults: %+v", c)
	}
	if !c.SandboxMode() || !c.AllowPrivateURLs {
		t.Fatal("no Kling keys: sandbox mode with private URLs allowed")
	}
	if c.Kling.BaseURL != "https://api-singapore.klingai.com" || c.Costs["face_swap"] != 4 {
		t.Fatalf("kling/costs: %+v %v", c.Kling, c.Costs)
	}
	if c.JobTimeout != 5*time.Minute || c.RescueAfter != 6*time.Minute {
		t.Fatalf("job timeout %v, rescue %v", c.JobTimeout, c.RescueAfter)
	}
}

func TestFromEnv_Live(t *testing.T) {
	t.Parallel()
	c, err := FromEnv(env(map[string]string{
		"KLING_ACCESS_KEY": "ak", "KLING_SECRET_KEY": "sk", "LEPUS_COSTS": "face_swap=7",
		"LEPUS_DATABASE_URL": "postgres://db/lepus", "LEPUS_PUBLIC_URL": "https://lepus.example.com/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.SandboxMode() || c.AllowPrivateURLs || !c.IsPostgres() || c.Costs["face_swap"] != 7 || c.Costs["face_swap_video"] != 10 {
		t.Fatalf("live: %+v", c)
	}
	if c.PublicURL != "https://lepus.example.com" {
		t.Fatalf("public URL %q keeps no trailing slash", c.PublicURL)
	}
}

func TestFromEnv_Errors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"OneKey", map[string]string{"KLING_ACCESS_KEY": "ak"}, "KLING_SECRET_KEY"},
		{"BadInt", map[string]string{"LEPUS_WORKERS": "many"}, "LEPUS_WORKERS"},
		{"TooManyCommitters", map[string]string{"LEPUS_CREATE_COMMITTERS": "65"}, "LEPUS_CREATE_COMMITTERS"},
		{"BadDuration", map[string]string{"LEPUS_POLL_INTERVAL": "5"}, "LEPUS_POLL_INTERVAL"},
		{"BadBool", map[string]string{"LEPUS_ALLOW_PRIVATE_URLS": "sometimes"}, "LEPUS_ALLOW_PRIVATE_URLS"},
		{"BadCosts", map[string]string{"LEPUS_COSTS": "face_swap"}, "LEPUS_COSTS"},
		{"BadAddr", map[string]string{"LEPUS_ADDR": "8080"}, "LEPUS_ADDR"},
		{"BadPublicURL", map[string]string{"LEPUS_PUBLIC_URL": "lepus.example.com"}, "LEPUS_PUBLIC_URL"},
		{"NoImageSlots", map[string]string{"KLING_IMAGE_SLOTS": "0"}, "KLING_IMAGE_SLOTS"},
		{"NegativeImageSlots", map[string]string{"KLING_IMAGE_SLOTS": "-2"}, "KLING_IMAGE_SLOTS"},
		{"NoVideoSlots", map[string]string{"KLING_VIDEO_SLOTS": "0"}, "KLING_VIDEO_SLOTS"},
		{"RescueBeforeTimeout", map[string]string{"LEPUS_JOB_TIMEOUT": "10m", "LEPUS_RESCUE_AFTER": "1m"}, "LEPUS_RESCUE_AFTER"},
		{"BadLogLevel", map[string]string{"LEPUS_LOG_LEVEL": "loud"}, "LEPUS_LOG_LEVEL"},
		{"BadLogFormat", map[string]string{"LEPUS_LOG_FORMAT": "yaml"}, "LEPUS_LOG_FORMAT"},
		{"BadMetricsAddr", map[string]string{"LEPUS_METRICS_ADDR": "9090"}, "LEPUS_METRICS_ADDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := FromEnv(env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// TestFromEnv_SmallAccount: an account of any size is accepted; a request
// for more images than it runs at once is refused later, per request.
func TestFromEnv_SmallAccount(t *testing.T) {
	t.Parallel()
	c, err := FromEnv(env(map[string]string{"KLING_IMAGE_SLOTS": "2", "KLING_VIDEO_SLOTS": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Kling.ImageSlots != 2 || c.Kling.VideoSlots != 1 {
		t.Fatalf("slots image %d video %d, want 2 and 1", c.Kling.ImageSlots, c.Kling.VideoSlots)
	}
}
