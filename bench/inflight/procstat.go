package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/<pid>/stat times: USER_HZ, 100 on Linux.
const clockTick = time.Second / 100

// procCPU returns the user+system CPU time of pid from /proc/<pid>/stat,
// plus that of its exited, reaped children if children is set.
func procCPU(pid int, children bool) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the parenthesised command name start at field 3;
	// utime, stime, cutime and cstime are fields 14 to 17.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 15 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	last := 12
	if children {
		last = 14
	}
	var ticks int64
	for _, v := range f[11 : last+1] {
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// postgresCPU sums the CPU time of every process named postgres on this
// machine, with the children they have reaped (backends that exited are
// counted in the postmaster). With -db, Lepus's database work happens there,
// not in the lepus process; the benchmark is the only load on that server.
func postgresCPU() time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var total time.Duration
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		c, _ := procCPU(pid, true)
		total += c
	}
	return total
}
