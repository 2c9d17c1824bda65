package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// daytimeZone returns a zone where it is now mid-day, so quiet hours do not
// defer what this test expects to see at once.
func daytimeZone() string {
	for _, z := range []string{"America/New_York", "America/Los_Angeles", "Europe/London", "Asia/Kolkata", "Asia/Tokyo", "Pacific/Auckland", "America/Sao_Paulo"} {
		loc, err := time.LoadLocation(z)
		if err != nil {
			continue
		}
		if h := time.Now().In(loc).Hour(); h >= 10 && h < 19 {
			return z
		}
	}
	return "UTC"
}

// TestDevInboundReplies runs the client's side end to end in `nudge dev`:
// a booking confirmation reaches the outbox; the client's replies come in
// through the fake Twilio's signed webhook; C confirms with one
// acknowledgement, crisis language gets crisis help at once and lands in
// the staff inbox, and STOP revokes consent with no second confirmation
// (the carrier's own is the one).
func TestDevInboundReplies(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildNudge(t)
	p := startDev(t, bin, t.TempDir(), freeAddr(t))
	defer p.stop(t)

	phone := "+14155550123"
	now := time.Now()
	events := []any{
		event("in-client", "client.upserted", now.Add(-time.Minute), map[string]any{
			"client_id": "c_in", "first_name": "Ada", "timezone": daytimeZone(), "phone": phone}),
		event("in-consent", "consent.granted", now.Add(-time.Minute), map[string]any{
			"client_id": "c_in", "channel": "sms", "purpose": "reminders", "source": "intake-form"}),
		event("in-session", "session.booked", now.Add(-time.Minute), map[string]any{
			"session_id": "s_in", "client_id": "c_in", "starts_at": now.Add(72 * time.Hour).Format(time.RFC3339), "location_kind": "in_person"}),
	}
	if status, body := p.do(t, http.MethodPost, "/v1/events", events); status != http.StatusAccepted {
		t.Fatalf("posting events: %d %v", status, body)
	}
	outbox := func() []map[string]any {
		_, body := p.do(t, http.MethodGet, "/v1/dev/outbox", nil)
		var out []map[string]any
		for _, m := range body["messages"].([]any) {
			out = append(out, m.(map[string]any))
		}
		return out
	}
	waitOutbox := func(what string, n int) []map[string]any {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if msgs := outbox(); len(msgs) >= n {
				return msgs
			}
		}
		t.Fatalf("outbox never had %d messages (%s): %v", n, what, outbox())
		return nil
	}
	msgs := waitOutbox("booking confirmation", 1)
	if msgs[0]["to"] != phone || !strings.Contains(msgs[0]["body"].(string), "Ada") {
		t.Errorf("booking confirmation = %v", msgs[0])
	}

	reply := func(body string) {
		t.Helper()
		if status, out := p.do(t, http.MethodPost, "/v1/dev/inbound", map[string]string{"from": phone, "body": body}); status != http.StatusAccepted {
			t.Fatalf("inbound %q: %d %v", body, status, out)
		}
	}
	reply("C")
	msgs = waitOutbox("confirmation acknowledgement", 2)
	if body := msgs[0]["body"].(string); !strings.Contains(strings.ToLower(body), "confirm") {
		t.Errorf("acknowledgement of C = %q", body)
	}

	reply("I want to die")
	msgs = waitOutbox("crisis reply", 3)
	if body := msgs[0]["body"].(string); !strings.Contains(body, "988") {
		t.Errorf("crisis reply does not point to 988: %q", body)
	}
	_, inbox := p.do(t, http.MethodGet, "/v1/inbox", nil)
	if !strings.Contains(toJSON(inbox), "I want to die") {
		t.Errorf("crisis message not in the staff inbox: %v", inbox)
	}

	reply("STOP")
	p.eventually(t, "/v1/clients/c_in", func(m map[string]any) bool {
		for _, c := range m["consents"].([]any) {
			if c.(map[string]any)["active"] == true {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Second) // give a wrong second confirmation time to show up
	if got := len(outbox()); got != 3 {
		t.Errorf("after STOP the outbox has %d messages, want still 3 (Twilio sends the one confirmation)", got)
	}
}
