package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Kinds of persisted records, one directory each under Config.StateDir.
const (
	kindTask    = "tasks"     // Kling tasks (taskRecord)
	kindTaskEnd = "task-ends" // Kling tasks ended early by FailTask (taskEnd)
	kindSession = "sessions"  // identify-face sessions (sessionRecord)
	kindArk     = "ark"       // Ark generations with URL images (arkRecord)
	kindRelight = "relight"   // Stability relights (relightRecord)
)

// store keeps one JSON file per record, each written whole to a temporary
// file that is synced and renamed over the old one, so a reader (the next
// process) sees the old or the new record, never half of one. A nil store
// keeps nothing: the sandbox then lives in memory only.
type store struct {
	dir string
}

func openStore(dir string) (*store, error) {
	for _, kind := range []string{kindTask, kindTaskEnd, kindSession, kindArk, kindRelight} {
		if err := os.MkdirAll(filepath.Join(dir, kind), 0o755); err != nil {
			return nil, fmt.Errorf("sandbox: state dir: %w", err)
		}
	}
	return &store{dir: dir}, nil
}

// validID keeps ids from naming paths outside their kind's directory.
func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, `/\`) && id != "." && id != ".." && !strings.HasPrefix(id, ".")
}

func (st *store) path(kind, id string) string { return filepath.Join(st.dir, kind, id+".json") }

// put writes v as the record id of kind, atomically and durably.
func (st *store) put(kind, id string, v any) error {
	if st == nil {
		return nil
	}
	if !validID(id) {
		return fmt.Errorf("sandbox: bad record id %q", id)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("sandbox: encode %s/%s: %w", kind, id, err)
	}
	f, err := os.CreateTemp(filepath.Join(st.dir, kind), "."+id+".*.tmp")
	if err != nil {
		return fmt.Errorf("sandbox: save %s/%s: %w", kind, id, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), st.path(kind, id))
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("sandbox: save %s/%s: %w", kind, id, err)
	}
	return nil
}

// remove forgets the record id of kind; a missing one is not an error.
func (st *store) remove(kind, id string) error {
	if st == nil || !validID(id) {
		return nil
	}
	if err := os.Remove(st.path(kind, id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sandbox: remove %s/%s: %w", kind, id, err)
	}
	return nil
}

// get decodes the record id of kind into v; found is false when there is
// none.
func (st *store) get(kind, id string, v any) (found bool, _ error) {
	if st == nil || !validID(id) {
		return false, nil
	}
	b, err := os.ReadFile(st.path(kind, id))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return false, fmt.Errorf("sandbox: read %s/%s: %w", kind, id, err)
	}
	return true, nil
}

// each calls f with the id and bytes of every record of kind, and deletes
// the temporary files a process stopped in the middle of put left behind.
// A record that cannot be read is reported to f as an error.
func (st *store) each(kind string, f func(id string, data []byte, err error)) error {
	if st == nil {
		return nil
	}
	dir := filepath.Join(st.dir, kind)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("sandbox: list %s: %w", kind, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") {
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		id, ok := strings.CutSuffix(name, ".json")
		if !ok || e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		f(id, b, err)
	}
	return nil
}
