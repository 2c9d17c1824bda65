package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/store/postgres/pgtest"
)

// TestServeWithFakeProviderProcess runs `nudge serve` unmodified against
// the providers' URLs (NUDGE_TWILIO_API_URL, NUDGE_SENDGRID_API_URL) served
// by `nudge fakeprovider` in its own process, with --metrics-listen: a
// booking confirmation reaches the fake Twilio over HTTP, and /metrics is
// served on the metrics address only.
func TestServeWithFakeProviderProcess(t *testing.T) {
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
	bin := buildNudge(t)
	fake := startFakeProviderProc(t, bin, "")
	s := newServeProc(t, bin, append(fake.serveEnv(),
		"NUDGE_DATABASE_URL="+dbURL, "NUDGE_NATS_URL=nats://"+natsAddr, "NUDGE_REPLICAS=1")...)
	s.start(t)
	s.waitReady(t, 60*time.Second)

	phone, now := "+14155550142", time.Now()
	events := []any{
		event("fp-client", "client.upserted", now.Add(-time.Minute), map[string]any{
			"client_id": "c_fp", "first_name": "Ada", "timezone": daytimeZone(), "phone": phone}),
		event("fp-consent", "consent.granted", now.Add(-time.Minute), map[string]any{
			"client_id": "c_fp", "channel": "sms", "purpose": "reminders", "source": "intake-form"}),
		event("fp-session", "session.booked", now.Add(-time.Minute), map[string]any{
			"session_id": "s_fp", "client_id": "c_fp", "starts_at": now.Add(72 * time.Hour).Format(time.RFC3339), "location_kind": "in_person"}),
	}
	if status, body := s.client().do(t, http.MethodPost, "/v1/events", events); status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d %v", status, body)
	}
	waitFor(t, time.Now().Add(30*time.Second), "the booking confirmation at the fake Twilio", func() bool {
		for _, m := range fake.messages(t, "twilio") {
			if m.To == phone && strings.Contains(m.Body, "Ada") {
				return true
			}
		}
		return false
	})

	if got := getStatus("http://" + s.addr + "/metrics"); got != http.StatusNotFound {
		t.Errorf("GET /metrics on the public address = %d, want 404 with --metrics-listen", got)
	}
	// The provider hears the message a moment before nudge counts it.
	var body []byte
	var status int
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get("http://" + s.metrics + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
		if status == http.StatusOK && strings.Contains(string(body), `nudge_notifications_total{channel="sms"`) {
			break
		}
	}
	if status != http.StatusOK || !strings.Contains(string(body), `nudge_notifications_total{channel="sms"`) {
		t.Errorf("GET /metrics on the metrics address = %d, without the sms notification:\n%.2000s", status, body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if got := getStatus("http://" + s.metrics + path); got != http.StatusOK {
			t.Errorf("GET %s on the metrics address = %d", path, got)
		}
		if got := getStatus("http://" + s.addr + path); got != http.StatusOK {
			t.Errorf("GET %s on the public address = %d (load balancers probe it)", path, got)
		}
	}
}
