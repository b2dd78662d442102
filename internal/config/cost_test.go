package config

import (
	"strings"
	"testing"
)

func TestFromEnv_Costs(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		c, err := FromEnv(env(map[string]string{"LEPUS_COSTS": "face_swap=7, relight=0"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Costs["face_swap"] != 7 || c.Costs["relight"] != 0 || c.Costs["lip_sync"] != DefaultCosts()["lip_sync"] {
			t.Fatalf("costs %v: want face_swap 7, relight 0, the rest the defaults", c.Costs)
		}
	})
	t.Run("ErrUnknownKey", func(t *testing.T) {
		t.Parallel()
		_, err := FromEnv(env(map[string]string{"LEPUS_COSTS": "face_swap=7,faceswap_video=3"}))
		if err == nil {
			t.Fatal("an unknown key was accepted")
		}
		msg := err.Error()
		if !strings.Contains(msg, "LEPUS_COSTS") || !strings.Contains(msg, `unknown key "faceswap_video"`) {
			t.Errorf("error %q does not name the variable and the key", msg)
		}
		for k := range DefaultCosts() {
			if !strings.Contains(msg, k) {
				t.Errorf("error %q does not list the valid key %s", msg, k)
			}
		}
	})
	t.Run("ErrUnknownKeys", func(t *testing.T) {
		t.Parallel()
		_, err := FromEnv(env(map[string]string{"LEPUS_COSTS": "zeta=1,alpha=2"}))
		if err == nil || !strings.Contains(err.Error(), `unknown keys "alpha", "zeta"`) {
			t.Fatalf("error %v: want both keys named, sorted", err)
		}
	})
	t.Run("ErrNotANumber", func(t *testing.T) {
		t.Parallel()
		_, err := FromEnv(env(map[string]string{"LEPUS_COSTS": "face_swap=x"}))
		if err == nil || !strings.Contains(err.Error(), `"face_swap=x" is not type=credits`) {
			t.Fatalf("error %v", err)
		}
	})
}
