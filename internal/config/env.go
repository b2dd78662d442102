package config

import (
	"errors"
	"reflect"
	"strings"

	// Named apart from the tests' env helper.
	envlib "github.com/caarlos0/env/v11"
)

// Parsers maps a field type to the function that reads it from a
// variable's text, for ParseEnv.
type Parsers map[reflect.Type]func(string) (any, error)

// ParseEnv fills the fields of the struct dst points to that carry an
// `env:"NAME"` tag from the variables read through getenv, with
// github.com/caarlos0/env (the sandbox's settings are read with it too). A
// variable that is unset or blank leaves its field as it was, so dst's
// starting values are the defaults. parsers read the non-string field
// types; an error from one comes back as "NAME: <error>", every failing
// variable's joined. ParseEnv returns the variables that were set, with
// their text, so a caller can tell a variable set to 0 from an unset one and
// quote the text in its own checks.
func ParseEnv(dst any, getenv func(string) string, parsers Parsers) (map[string]string, error) {
	fields, err := envlib.GetFieldParamsWithOptions(dst, envlib.Options{Environment: map[string]string{}})
	if err != nil {
		return nil, err
	}
	set := map[string]string{}
	for _, f := range fields {
		if v := getenv(f.Key); strings.TrimSpace(v) != "" {
			set[f.Key] = v
		}
	}
	// env hands a parser the text but not the variable. It calls OnSet with
	// a field's variable just before it parses that field's text, so key is
	// the variable being parsed (TestParseEnv holds env to that).
	var key string
	funcs := map[reflect.Type]envlib.ParserFunc{}
	for t, parse := range parsers {
		funcs[t] = func(v string) (any, error) {
			x, err := parse(v)
			if err != nil {
				return nil, varError{key, err}
			}
			return x, nil
		}
	}
	err = envlib.ParseWithOptions(dst, envlib.Options{
		Environment: set,
		FuncMap:     funcs,
		OnSet:       func(k string, _ any, _ bool) { key = k },
	})
	var agg envlib.AggregateError
	if !errors.As(err, &agg) {
		return set, err
	}
	errs := make([]error, len(agg.Errors))
	for i, e := range agg.Errors {
		errs[i] = e // a type without a parser: env's message names the Go field
		if pe, ok := e.(envlib.ParseError); ok {
			if ve, ok := pe.Err.(varError); ok {
				errs[i] = ve
			}
		}
	}
	return set, errors.Join(errs...)
}

// varError is a variable whose text did not parse.
type varError struct {
	name string
	err  error
}

func (e varError) Error() string { return e.name + ": " + e.err.Error() }
func (e varError) Unwrap() error { return e.err }
