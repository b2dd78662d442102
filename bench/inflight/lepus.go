package main

import (
	"strconv"
	"syscall"
	"time"

	"github.com/lepus-ai/lepus/bench/internal/lepusproc"
)

// lepusEnv is the child's environment: ours without any LEPUS_, KLING_ or
// SANDBOX_ variable, plus the benchmark's settings.
func lepusEnv(o options, tmp, dbURL, providerURL, secret string) []string {
	env := append(lepusproc.SandboxEnv(tmp, dbURL, providerURL, secret),
		"LEPUS_ADDR=127.0.0.1:0",
		"LEPUS_STARTING_CREDITS=100000000",
		// Lepus's own provider cap must not queue them (it needs at least 9).
		"KLING_IMAGE_SLOTS="+strconv.Itoa(max(o.n, 9)),
		"KLING_VIDEO_SLOTS="+strconv.Itoa(o.n),
	)
	if o.poll > 0 {
		env = append(env, "LEPUS_POLL_INTERVAL="+o.poll.String())
	}
	return env
}

// lepusCPU is the child's user+system CPU time so far.
func lepusCPU(p *lepusproc.Proc) time.Duration {
	c, _ := procCPU(p.PID, false)
	return c
}

// harnessCPU is this process's own CPU time: the sandbox (which renders
// every result) and the clients share the two cores with lepus.
func harnessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
