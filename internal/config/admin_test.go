package config

import (
	"strings"
	"testing"
)

func TestFromEnv_AdminToken(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		c, err := FromEnv(env(map[string]string{"LEPUS_ADMIN_TOKEN": "0123456789abcdef"}))
		if err != nil || c.AdminToken != "0123456789abcdef" {
			t.Fatalf("got %q, %v", c.AdminToken, err)
		}
	})
	for _, bad := range []string{"short", "0123456789 abcdef"} {
		t.Run("Err", func(t *testing.T) {
			t.Parallel()
			_, err := FromEnv(env(map[string]string{"LEPUS_ADMIN_TOKEN": bad}))
			if err == nil || !strings.Contains(err.Error(), "LEPUS_ADMIN_TOKEN") || strings.Contains(err.Error(), bad) {
				t.Fatalf("error %v; want one naming LEPUS_ADMIN_TOKEN without repeating it", err)
			}
		})
	}
}
