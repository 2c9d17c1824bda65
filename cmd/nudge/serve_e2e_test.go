package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/fakeprovider"
	"github.com/nudgehq/nudge/internal/store/postgres/pgtest"
)

// TestServeEndToEnd runs the production path: `nudge serve` against an
// external NATS server (one built from the same nats-server module, since
// the machine's own is too old) and Postgres, with the real Twilio and
// SendGrid settings it requires. An event goes in over HTTP and comes back
// from the read API, stored in Postgres.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	dbURL := pgtest.NewSchemaURL(t)
	natsAddr := freeAddr(t)
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: t.TempDir(), ListenAddr: natsAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Shutdown()
	sg := fakeprovider.NewSendGrid(fakeprovider.SendGridConfig{})

	bin := buildNudge(t)
	addr := freeAddr(t)
	token := strings.Repeat("s", 40)
	var out bytes.Buffer
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"NUDGE_HTTP="+addr,
		"NUDGE_API_TOKEN="+token,
		"NUDGE_DATABASE_URL="+dbURL,
		"NUDGE_NATS_URL=nats://"+natsAddr,
		"NUDGE_REPLICAS=1",
		"NUDGE_PUBLIC_URL=https://nudge.example.org",
		"NUDGE_PRACTICE_NAME=Harbor Practice",
		"NUDGE_PRACTICE_ADDRESS=1 Main St, Springfield",
		"NUDGE_TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000",
		"NUDGE_TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef",
		"NUDGE_TWILIO_FROM=+15005550006",
		"NUDGE_SENDGRID_API_KEY=SG.test.key",
		"NUDGE_SENDGRID_FROM=care@practice.example",
		"NUDGE_SENDGRID_WEBHOOK_KEY="+sg.PublicKey(),
	)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &devProcess{cmd: cmd, addr: addr, token: token, stdout: &out}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	ready := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !ready; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
		}
	}
	if !ready {
		t.Fatalf("nudge serve did not become ready:\n%s", out.String())
	}
	if strings.Contains(out.String(), "embedded") || strings.Contains(out.String(), "SQLite") {
		t.Errorf("serve mentions embedded parts:\n%s", out.String())
	}

	ev := event("serve-client-1", "client.upserted", time.Now().Add(-time.Minute), map[string]any{
		"client_id": "c_serve", "first_name": "Ada", "timezone": "Europe/London", "email": "ada@example.org"})
	if status, body := p.do(t, http.MethodPost, "/v1/events", []any{ev}); status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d %v", status, body)
	}
	got := p.eventually(t, "/v1/clients/c_serve", func(m map[string]any) bool { return m["first_name"] == "Ada" })
	if got["timezone"] != "Europe/London" {
		t.Errorf("client = %v", got)
	}
	// The webhooks are served and refuse unsigned calls.
	resp, err := http.Post("http://"+addr+"/webhooks/twilio/inbound", "application/x-www-form-urlencoded", strings.NewReader("From=%2B14155550123&Body=STOP&MessageSid=SM1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned Twilio webhook = %d, want 403", resp.StatusCode)
	}
	p.stop(t)
}
