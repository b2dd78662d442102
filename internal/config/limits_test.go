package config

import (
	"strings"
	"testing"
)

func TestFromEnv_Limits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want LimitsConfig
	}{
		{"Defaults", nil, LimitsConfig{Rate: 50, Burst: 100, MaxInFlight: 1000}},
		{"Set", map[string]string{"LEPUS_RATE_LIMIT": "2.5", "LEPUS_RATE_BURST": "4", "LEPUS_MAX_IN_FLIGHT": "3"},
			LimitsConfig{Rate: 2.5, Burst: 4, MaxInFlight: 3}},
		{"BurstFromRate", map[string]string{"LEPUS_RATE_LIMIT": "0.2"}, LimitsConfig{Rate: 0.2, Burst: 1, MaxInFlight: 1000}},
		{"ZeroTurnsOff", map[string]string{"LEPUS_RATE_LIMIT": "0", "LEPUS_MAX_IN_FLIGHT": "0"}, LimitsConfig{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Limits != tc.want {
				t.Fatalf("limits %+v, want %+v", c.Limits, tc.want)
			}
		})
	}
}

func TestFromEnv_LimitsErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, key, value string }{
		{"RateNotNumber", "LEPUS_RATE_LIMIT", "fast"},
		{"RateNaN", "LEPUS_RATE_LIMIT", "NaN"},
		{"RateNegative", "LEPUS_RATE_LIMIT", "-1"},
		{"BurstNegative", "LEPUS_RATE_BURST", "-2"},
		{"BurstNotInt", "LEPUS_RATE_BURST", "1.5"},
		{"InFlightNegative", "LEPUS_MAX_IN_FLIGHT", "-1"},
		{"InFlightNotInt", "LEPUS_MAX_IN_FLIGHT", "lots"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := FromEnv(env(map[string]string{tc.key: tc.value}))
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("FromEnv(%s=%s) = %v, want an error naming %s", tc.key, tc.value, err, tc.key)
			}
		})
	}
}
