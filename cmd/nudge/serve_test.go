package main

import (
	"os/exec"
	"strings"
	"testing"
)

func TestServeValidateNamesEveryProblem(t *testing.T) {
	s := serveCmd{HTTP: "nonsense", Replicas: 9, NATSURL: "http://x", DatabaseURL: "mysql://db", APIToken: "short", NATSTLSCert: "c.pem"}
	err := s.validate()
	if err == nil {
		t.Fatal("validate accepted a broken configuration")
	}
	for _, want := range []string{"NUDGE_DATABASE_URL", "NUDGE_NATS_URL", "NUDGE_API_TOKEN", "NUDGE_HTTP", "NUDGE_REPLICAS", "NUDGE_NATS_TLS_KEY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}

	ok := serveCmd{HTTP: ":8080", Replicas: 3, NATSURL: "nats://a:4222, tls://b:4222", DatabaseURL: "postgres://nudge@db/nudge", APIToken: strings.Repeat("x", 32)}
	if err := ok.validate(); err != nil {
		t.Fatalf("validate rejected a complete configuration: %v", err)
	}
}

// TestServeRefusesToStartUnconfigured runs the real binary with no settings:
// it must exit non-zero with one message naming what is missing, and never
// fall back to embedded parts.
func TestServeRefusesToStartUnconfigured(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildNudge(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("nudge serve without configuration exited 0:\n%s", out)
	}
	for _, want := range []string{"cannot start", "NUDGE_DATABASE_URL", "NUDGE_NATS_URL", "NUDGE_API_TOKEN"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "embedded") {
		t.Errorf("serve mentions embedded parts:\n%s", out)
	}
}
