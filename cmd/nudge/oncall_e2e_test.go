package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCrisisAlertsOnCallStaff: on a real `nudge dev` with an announcement
// backlog paced at one SMS a second, a client's crisis message reaches the
// on-call staff's phone and email within 5 s, saying only that a message
// needs urgent attention, with a link to the inbox item — neither the
// client's words nor their name. A crisis reply that fails at the provider
// is flagged on its inbox item.
func TestCrisisAlertsOnCallStaff(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	p := startDev(t, buildNudge(t), t.TempDir(), freeAddr(t), "--sms-rate", "1",
		"--crisis-alert-sms", "+14155550999", "--crisis-alert-email", "oncall@example.com,lead@example.com")
	if status, body := p.do(t, http.MethodPost, "/v1/events", announcementMembers(time.Now().Add(-time.Hour))); status != http.StatusAccepted {
		t.Fatalf("posting events: %d %v", status, body)
	}
	p.eventually(t, "/v1/groups/g1", func(m map[string]any) bool {
		return m["group"].(map[string]any)["member_count"] == float64(25)
	})
	// A routine backlog: 20 SMS at one a second.
	req := map[string]any{"announcement_id": "backlog", "group_id": "g1", "body": "Group moves to room 4.", "urgent": true, "urgent_reason": "test backlog"}
	if status, body := p.do(t, http.MethodPost, "/v1/announcements", req); status != http.StatusAccepted {
		t.Fatalf("POST announcement: %d %v", status, body)
	}
	p.eventually(t, "/v1/announcements/backlog", func(m map[string]any) bool { return m["sent"].(float64) >= 1 })

	start := time.Now()
	if status, body := p.do(t, http.MethodPost, "/v1/dev/inbound", map[string]any{"from": "+14155550001", "body": "I took all my pills"}); status/100 != 2 {
		t.Fatalf("inbound: %d %v", status, body)
	}
	alerts := map[string]map[string]any{}
	for time.Since(start) < 10*time.Second && len(alerts) < 3 {
		_, body := p.do(t, http.MethodGet, "/v1/dev/outbox", nil)
		for _, m := range body["messages"].([]any) {
			m := m.(map[string]any)
			if to := m["to"].(string); to == "+14155550999" || to == "oncall@example.com" || to == "lead@example.com" {
				if alerts[to] == nil {
					t.Logf("alert to %s after %v", to, time.Since(start).Round(10*time.Millisecond))
				}
				alerts[to] = m
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if len(alerts) != 3 {
		t.Fatalf("on-call alerts after %v: %v, want SMS and two emails", elapsed, alerts)
	}
	if elapsed > 5*time.Second {
		t.Errorf("alerts took %v, want within 5s", elapsed)
	}
	_, inbox := p.do(t, http.MethodGet, "/v1/inbox", nil)
	id := ""
	for _, m := range inbox["messages"].([]any) {
		if m := m.(map[string]any); m["kind"] == "crisis" {
			id = m["id"].(string)
		}
	}
	for to, m := range alerts {
		text := fmt.Sprint(m["body"], " ", m["subject"])
		for _, secret := range []string{"pills", "took", "Fc01", "c01", "+14155550001"} {
			if strings.Contains(text, secret) {
				t.Errorf("alert to %s reveals %q: %s", to, secret, text)
			}
		}
		if !strings.Contains(text, "urgent attention") || !strings.Contains(text, "/inbox#msg-"+id) {
			t.Errorf("alert to %s does not say urgent attention with a link to inbox item %s: %s", to, id, text)
		}
	}

	// A crisis reply the provider refuses (the fake's invalid number) is
	// flagged on its inbox item.
	if status, body := p.do(t, http.MethodPost, "/v1/dev/inbound", map[string]any{"from": "+15005550001", "body": "no estoy a salvo"}); status/100 != 2 {
		t.Fatalf("inbound: %d %v", status, body)
	}
	p.eventuallyWithin(t, 15*time.Second, "/v1/inbox", func(m map[string]any) bool {
		for _, m := range m["messages"].([]any) {
			if m := m.(map[string]any); m["from"] == "+15005550001" {
				return m["crisis_reply_failed"] == true
			}
		}
		return false
	})
}
