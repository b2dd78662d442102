package config

import (
	"errors"
	"maps"
	"reflect"
	"strconv"
	"testing"
	"time"
)

func TestParseEnv(t *testing.T) {
	t.Parallel()
	type settings struct {
		Name  string `env:"T_NAME"`
		Count int    `env:"T_COUNT"`
		Inner struct {
			Wait time.Duration `env:"T_WAIT"`
		}
		Untagged int
	}
	parsers := Parsers{
		reflect.TypeFor[int](): func(v string) (any, error) {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, errors.New("not an int")
			}
			return n, nil
		},
		reflect.TypeFor[time.Duration](): func(v string) (any, error) {
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, errors.New("not a duration")
			}
			return d, nil
		},
	}
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := settings{Count: 7, Untagged: 3}
		set, err := ParseEnv(&s, env(map[string]string{"T_NAME": "lepus", "T_COUNT": "  ", "T_WAIT": "2s"}), parsers)
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != "lepus" || s.Count != 7 || s.Inner.Wait != 2*time.Second || s.Untagged != 3 {
			t.Fatalf("parsed %+v; want the blank T_COUNT to keep 7", s)
		}
		if want := map[string]string{"T_NAME": "lepus", "T_WAIT": "2s"}; !maps.Equal(set, want) {
			t.Fatalf("set %v, want %v", set, want)
		}
	})
	t.Run("ErrNamesEachVariable", func(t *testing.T) {
		t.Parallel()
		var s settings
		_, err := ParseEnv(&s, env(map[string]string{"T_NAME": "lepus", "T_COUNT": "many", "T_WAIT": "soon"}), parsers)
		if want := "T_COUNT: not an int\nT_WAIT: not a duration"; err == nil || err.Error() != want {
			t.Fatalf("err %v, want %q", err, want)
		}
	})
}
