package config

import (
	"strings"
	"testing"
)

// TestFromEnv_ConsoleDevSignIn: the developer sign-in is on by default only
// in sandbox mode on a loopback address; LEPUS_CONSOLE_DEV_SIGNIN overrides
// the address rule, never the mode.
func TestFromEnv_ConsoleDevSignIn(t *testing.T) {
	t.Parallel()
	live := map[string]string{"KLING_ACCESS_KEY": "ak", "KLING_SECRET_KEY": "sk"}
	for _, tc := range []struct {
		name string
		vars map[string]string
		want bool
	}{
		{"DefaultLoopback", nil, true},
		{"LoopbackIPv6", map[string]string{"LEPUS_ADDR": "[::1]:8080"}, true},
		{"Localhost", map[string]string{"LEPUS_ADDR": "localhost:8080"}, true},
		{"AllInterfaces", map[string]string{"LEPUS_ADDR": "0.0.0.0:8080"}, false},
		{"NoHost", map[string]string{"LEPUS_ADDR": ":8080"}, false},
		{"OtherName", map[string]string{"LEPUS_ADDR": "lepus.internal:8080"}, false},
		{"OptIn", map[string]string{"LEPUS_ADDR": "0.0.0.0:8080", "LEPUS_CONSOLE_DEV_SIGNIN": "1"}, true},
		{"OptOut", map[string]string{"LEPUS_CONSOLE_DEV_SIGNIN": "0"}, false},
		{"Live", live, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(env(tc.vars))
			if err != nil || c.ConsoleDevSignIn != tc.want {
				t.Fatalf("ConsoleDevSignIn %v, %v; want %v", c.ConsoleDevSignIn, err, tc.want)
			}
		})
	}
	for name, vars := range map[string]map[string]string{
		"ErrLive": {"KLING_ACCESS_KEY": "ak", "KLING_SECRET_KEY": "sk", "LEPUS_CONSOLE_DEV_SIGNIN": "1"},
		"ErrBool": {"LEPUS_CONSOLE_DEV_SIGNIN": "yes please"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := FromEnv(env(vars)); err == nil || !strings.Contains(err.Error(), "LEPUS_CONSOLE_DEV_SIGNIN") {
				t.Fatalf("error %v; want one naming LEPUS_CONSOLE_DEV_SIGNIN", err)
			}
		})
	}
}
