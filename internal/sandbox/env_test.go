package sandbox_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lepus-ai/lepus/internal/sandbox"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"SANDBOX_IMAGE_LATENCY":     "500ms",
		"SANDBOX_VIDEO_LATENCY":     "2",
		"SANDBOX_RESPONSE_DELAY":    "0",
		"SANDBOX_FAILURE_RATE":      "0.25",
		"SANDBOX_FAILURE_CODES":     "5000, 1303",
		"SANDBOX_RESET_RATE":        "0.1",
		"SANDBOX_CONCURRENCY":       "10",
		"SANDBOX_VIDEO_CONCURRENCY": "4",
		"SANDBOX_LLM_KEY":           "llm-secret",
	}
	cfg, err := sandbox.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ImageLatency != 500*time.Millisecond || cfg.VideoLatency != 2*time.Second || cfg.FailureRate != 0.25 ||
		len(cfg.FailureCodes) != 2 || cfg.FailureCodes[1] != 1303 || cfg.ResetRate != 0.1 || cfg.Concurrency != 10 ||
		cfg.AccessKey != "sandbox-ak" || cfg.VideoConcurrency != 4 || cfg.ImageConcurrency != 0 || cfg.LLMKey != "llm-secret" {
		t.Errorf("cfg = %+v", cfg)
	}

	def, err := sandbox.ConfigFromEnv(func(string) string { return "" })
	if err != nil || def.ImageLatency != 3*time.Second || def.VideoLatency != 8*time.Second || def.LLMKey != "sandbox-llm-key" {
		t.Errorf("defaults = %+v, %v", def, err)
	}

	bad := []struct{ name, value string }{
		{"SANDBOX_IMAGE_LATENCY", "soon"},
		{"SANDBOX_VIDEO_LATENCY", "0"},
		{"SANDBOX_RESPONSE_DELAY", "-1s"},
		{"SANDBOX_FAILURE_RATE", "1.5"},
		{"SANDBOX_RESET_RATE", "x"},
		{"SANDBOX_FAILURE_CODES", "5000,42"},
		{"SANDBOX_CONCURRENCY", "-3"},
		{"SANDBOX_IMAGE_CONCURRENCY", "two"},
		{"SANDBOX_VIDEO_CONCURRENCY", "-1"},
	}
	for _, b := range bad {
		_, err := sandbox.ConfigFromEnv(func(k string) string {
			if k == b.name {
				return b.value
			}
			return ""
		})
		if err == nil || !strings.HasPrefix(err.Error(), b.name+":") {
			t.Errorf("%s=%q: err = %v, want one naming the variable", b.name, b.value, err)
		}
	}
}
