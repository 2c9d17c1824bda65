// Package failpoint lets a test kill the process at named points of the
// delivery path, to prove that a crash anywhere neither loses a message nor
// sends it twice.
//
// It is off unless the process starts with NUDGE_FAILPOINTS set, e.g.
//
//	NUDGE_FAILPOINTS="deliver.before_call=0.05,deliver.after_call=0.05"
//	NUDGE_FAILPOINTS_SEED=42
//
// Each named point then exits the process (exit code 137, like SIGKILL) with
// the given probability. Before dying it appends the point's name to the file
// named by NUDGE_FAILPOINTS_LOG, if set, so the test can count which windows
// it hit. In production the variables are unset and Hit is one map lookup on
// an empty map.
package failpoint

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
)

var (
	mu     sync.Mutex
	points = map[string]float64{}
	rng    *rand.Rand
	logTo  string
)

func init() {
	spec := os.Getenv("NUDGE_FAILPOINTS")
	if spec == "" {
		return
	}
	seed, _ := strconv.ParseUint(os.Getenv("NUDGE_FAILPOINTS_SEED"), 10, 64)
	rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	logTo = os.Getenv("NUDGE_FAILPOINTS_LOG")
	for _, item := range strings.Split(spec, ",") {
		name, p, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			continue
		}
		if prob, err := strconv.ParseFloat(p, 64); err == nil {
			points[name] = prob
		}
	}
}

// Hit exits the process at the point called name when the point is armed
// and its coin comes up.
func Hit(name string) {
	if len(points) == 0 {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	p, ok := points[name]
	if !ok || rng.Float64() >= p {
		return
	}
	if logTo != "" {
		if f, err := os.OpenFile(logTo, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			_, _ = f.WriteString(name + "\n")
			_ = f.Sync()
			_ = f.Close()
		}
	}
	os.Exit(137)
}
