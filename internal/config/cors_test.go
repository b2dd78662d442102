package config

import (
	"slices"
	"strings"
	"testing"
)

func TestFromEnv_CORSOrigins(t *testing.T) {
	t.Parallel()
	live := map[string]string{"KLING_ACCESS_KEY": "ak", "KLING_SECRET_KEY": "sk"}
	with := func(base map[string]string, origins string) map[string]string {
		m := map[string]string{"LEPUS_CORS_ORIGINS": origins}
		for k, v := range base {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"SandboxDefaultAny", nil, []string{"*"}},
		{"LiveDefaultNone", live, nil},
		{"LiveList", with(live, " https://app.example.com/, http://localhost:5173 "), []string{"https://app.example.com", "http://localhost:5173"}},
		{"Wildcard", with(live, "https://*.example.com"), []string{"https://*.example.com"}},
		{"SandboxNone", with(nil, "none"), []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.CORSOrigins, tc.want) || (tc.want == nil) != (c.CORSOrigins == nil) {
				t.Fatalf("CORSOrigins = %#v, want %#v", c.CORSOrigins, tc.want)
			}
		})
	}

	for _, bad := range []string{"app.example.com", "https://app.example.com/path", "*,https://a.example.com", "ftp://a.example.com", "https://*.*.example.com"} {
		t.Run("Err"+bad, func(t *testing.T) {
			t.Parallel()
			_, err := FromEnv(env(map[string]string{"LEPUS_CORS_ORIGINS": bad}))
			if err == nil || !strings.Contains(err.Error(), "LEPUS_CORS_ORIGINS") {
				t.Fatalf("err = %v, want one naming LEPUS_CORS_ORIGINS", err)
			}
		})
	}
}
