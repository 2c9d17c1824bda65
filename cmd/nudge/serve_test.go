package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestServeValidateNamesEveryProblem(t *testing.T) {
	s := serveCmd{HTTP: "nonsense", Replicas: 9, NATSURL: "http://x", DatabaseURL: "mysql://db", APIToken: "short", NATSTLSCert: "c.pem"}
	err := s.validate()
	if err == nil {
		t.Fatal("validate accepted a broken configuration")
	}
	for _, want := range []string{"NUDGE_DATABASE_URL", "NUDGE_NATS_URL", "NUDGE_API_TOKEN", "NUDGE_HTTP", "NUDGE_REPLICAS", "NUDGE_NATS_TLS_KEY",
		"NUDGE_PUBLIC_URL", "NUDGE_PRACTICE_NAME", "no channel configured"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}

	ok := serveCmd{HTTP: ":8080", Replicas: 3, NATSURL: "nats://a:4222, tls://b:4222", DatabaseURL: "postgres://nudge@db/nudge", APIToken: strings.Repeat("x", 32)}
	ok.ReminderStaleness = 30 * time.Minute
	ok.providerFlags = providerFlags{
		PublicURL: "https://nudge.example.org", PracticeName: "Harbor Practice", PracticeAddress: "1 Main St",
		TwilioAccountSID: "AC123", TwilioAuthToken: "tok", TwilioFrom: "+14155550123",
		SendGridAPIKey: "SG.x.y", SendGridFrom: "care@practice.example", SendGridWebhookKey: "key",
		SMSRate: 1, EmailRate: 10, DeliverWorkers: 8,
	}
	if err := ok.validate(); err != nil {
		t.Fatalf("validate rejected a complete configuration: %v", err)
	}

	// A half-configured channel names what is missing for it.
	half := ok
	half.providerFlags.TwilioFrom = ""
	half.providerFlags.SendGridWebhookKey = ""
	err = half.validate()
	for _, want := range []string{"NUDGE_TWILIO_FROM", "NUDGE_SENDGRID_WEBHOOK_KEY"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("half-configured channels: error does not name %s: %v", want, err)
		}
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
