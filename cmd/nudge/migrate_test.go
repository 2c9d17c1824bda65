package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nudgehq/nudge/internal/store/postgres/pgtest"
)

// TestMigrateCommands runs `nudge migrate status|up` against a fresh SQLite
// data dir and a fresh Postgres schema.
func TestMigrateCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildNudge(t)
	targets := map[string][]string{
		"sqlite":   {"--data-dir", t.TempDir()},
		"postgres": {"--database-url", pgtest.NewSchemaURL(t)},
	}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			run := func(args ...string) string {
				t.Helper()
				cmd := exec.Command(bin, append(append([]string{"migrate"}, args...), target...)...)
				cmd.Env = append(os.Environ(), "NUDGE_DATABASE_URL=")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("nudge migrate %v: %v\n%s", args, err, out)
				}
				return string(out)
			}
			if out := run("status"); !strings.Contains(out, "pending") || !strings.Contains(out, "00001_init.sql") {
				t.Errorf("status before up:\n%s", out)
			}
			if out := run("up"); !strings.Contains(out, "schema is current") {
				t.Errorf("up:\n%s", out)
			}
			run("up") // a second up is a no-op
			if out := run("status"); strings.Contains(out, "pending") {
				t.Errorf("status after up still shows pending migrations:\n%s", out)
			}
		})
	}
}
