package main

import (
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"
)

// announcementMembers builds a support group g1 mixing members an
// announcement reaches (c01…c20 on SMS, c21 on email, their preference)
// and members it must not: c22 opted out, c23 never consented, c24 has no
// address, c25 is not a known client.
func announcementMembers(at time.Time) []any {
	var evs []any
	add := func(id, typ string, data map[string]any) {
		evs = append(evs, event(id, typ, at, data))
		at = at.Add(time.Millisecond)
	}
	add("g1-name", "group.upserted", map[string]any{"group_id": "g1", "name": "Tuesday circle"})
	client := func(id string, extra map[string]any) {
		data := map[string]any{"client_id": id, "first_name": "F" + id, "timezone": "UTC"}
		maps.Copy(data, extra)
		add("client-"+id, "client.upserted", data)
		add("member-"+id, "group.member_added", map[string]any{"group_id": "g1", "client_id": id})
	}
	consent := func(id, channel, action string) {
		add("consent-"+action+"-"+id, "consent."+action, map[string]any{"client_id": id, "channel": channel, "purpose": "announcements", "source": "e2e"})
	}
	for i := 1; i <= 20; i++ {
		id := fmt.Sprintf("c%02d", i)
		client(id, map[string]any{"phone": fmt.Sprintf("+1415555%04d", i)})
		consent(id, "sms", "granted")
	}
	client("c21", map[string]any{"phone": "+14155559021", "email": "c21@example.com", "preferred_channel": "email"})
	consent("c21", "email", "granted")
	client("c22", map[string]any{"phone": "+14155559022"})
	consent("c22", "sms", "granted")
	consent("c22", "sms", "revoked")
	client("c23", map[string]any{"phone": "+14155559023"})
	client("c24", nil)
	consent("c24", "sms", "granted")
	add("member-c25", "group.member_added", map[string]any{"group_id": "g1", "client_id": "c25"})
	return evs
}

// TestAnnouncementEndToEnd walks the staff announcement path on a real
// `nudge dev`: the group page and the preview say who will get it, the
// fan-out reaches exactly them once on their channel, a repeated
// announcement id sends nothing new, and a cancel mid-way settles every
// recipient.
func TestAnnouncementEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	p := startDev(t, buildNudge(t), t.TempDir(), freeAddr(t), "--sms-rate", "5")
	if status, body := p.do(t, http.MethodPost, "/v1/events", announcementMembers(time.Now().Add(-time.Hour))); status != http.StatusAccepted {
		t.Fatalf("posting events: %d %v", status, body)
	}
	p.eventually(t, "/v1/clients/c22", func(m map[string]any) bool {
		cs := m["consents"].([]any)
		return len(cs) == 1 && cs[0].(map[string]any)["active"] == false
	})
	p.eventually(t, "/v1/groups/g1", func(m map[string]any) bool {
		return m["group"].(map[string]any)["member_count"] == float64(25)
	})

	// The group page: per member, reached on which channel or why not.
	_, group := p.do(t, http.MethodGet, "/v1/groups/g1", nil)
	want := map[string]string{"c01": "sms", "c20": "sms", "c21": "email",
		"c22": "opted_out", "c23": "no_consent", "c24": "no_address", "c25": "unknown_client"}
	for _, m := range group["members"].([]any) {
		m := m.(map[string]any)
		w, ok := want[m["client_id"].(string)]
		if !ok {
			continue
		}
		got, _ := m["channel"].(string)
		if m["reachable"] != true {
			got, _ = m["reason"].(string)
		}
		if got != w {
			t.Errorf("group page: %s is %q, want %q (%v)", m["client_id"], got, w, m)
		}
	}

	// The preview, then the send: the counts must match, per reason.
	req := map[string]any{"group_id": "g1", "body": "We meet in room 4 this Tuesday.", "urgent": true, "urgent_reason": "room changed today"}
	status, preview := p.do(t, http.MethodPost, "/v1/announcements/preview", req)
	if status != http.StatusOK {
		t.Fatalf("preview = %d %v", status, preview)
	}
	if preview["recipients"] != float64(21) {
		t.Fatalf("preview recipients = %v, want 21: %v", preview["recipients"], preview)
	}
	wantExcluded := map[string]any{"opted_out": float64(1), "no_consent": float64(1), "no_address": float64(1),
		"unknown_client": float64(1), "care_paused": float64(0)}
	if !maps.Equal(preview["excluded"].(map[string]any), wantExcluded) {
		t.Errorf("preview excluded = %v, want %v", preview["excluded"], wantExcluded)
	}
	if sms := preview["sms"].(map[string]any); sms["segments"] != float64(1) || sms["encoding"] != "GSM-7" {
		t.Errorf("preview sms = %v", sms)
	}

	req["announcement_id"] = "a1"
	if status, body := p.do(t, http.MethodPost, "/v1/announcements", req); status != http.StatusAccepted {
		t.Fatalf("POST /v1/announcements = %d %v", status, body)
	}
	a1 := p.eventuallyWithin(t, 30*time.Second, "/v1/announcements/a1", func(m map[string]any) bool { return m["state"] == "done" })
	if a1["sent"] != preview["recipients"] || a1["total"] != float64(25) || a1["skipped"] != float64(4) {
		t.Errorf("announcement a1 = %v; preview said %v recipients", a1, preview["recipients"])
	}
	for reason, n := range a1["skipped_by_reason"].(map[string]any) {
		if preview["excluded"].(map[string]any)[reason] != n {
			t.Errorf("skipped %s = %v, preview excluded %v", reason, n, preview["excluded"].(map[string]any)[reason])
		}
	}
	if a1["by_channel"].(map[string]any)["email"] != float64(1) || a1["by_channel"].(map[string]any)["sms"] != float64(20) {
		t.Errorf("by channel = %v", a1["by_channel"])
	}

	// Exactly the consented members, once each, on their channel.
	sentTo := func() map[string]int {
		_, body := p.do(t, http.MethodGet, "/v1/dev/outbox", nil)
		out := map[string]int{}
		for _, m := range body["messages"].([]any) {
			m := m.(map[string]any)
			out[m["channel"].(string)+" "+m["to"].(string)]++
		}
		return out
	}
	got := sentTo()
	wantTo := map[string]int{"email c21@example.com": 1}
	for i := 1; i <= 20; i++ {
		wantTo[fmt.Sprintf("sms +1415555%04d", i)] = 1
	}
	if !maps.Equal(got, wantTo) {
		t.Errorf("outbox = %v\nwant %v", got, wantTo)
	}

	// The same announcement id again, by HTTP and as an event with another
	// event id: nothing new is sent.
	req["body"] = "Something else entirely."
	status, body := p.do(t, http.MethodPost, "/v1/announcements", req)
	if status != http.StatusAccepted || body["duplicate"] != true {
		t.Errorf("repeated POST = %d %v, want 202 duplicate", status, body)
	}
	repeat := event("a1-again", "announcement.requested", time.Now(), map[string]any{
		"announcement_id": "a1", "group_id": "g1", "body": "Yet another body.", "requested_by": "e2e"})
	if status, body := p.do(t, http.MethodPost, "/v1/events", []any{repeat}); status != http.StatusAccepted {
		t.Fatalf("posting the repeat event: %d %v", status, body)
	}
	p.eventually(t, "/v1/events/a1-again", func(map[string]any) bool { return true })
	time.Sleep(time.Second) // the feeder runs every 250ms: give a wrong resend its chance
	if again := sentTo(); !maps.Equal(again, wantTo) {
		t.Errorf("a repeated announcement_id sent more: %v", again)
	}

	// Cancel mid-way (SMS are paced at 5/s): every recipient ends sent,
	// cancelled, skipped or failed.
	req = map[string]any{"announcement_id": "a2", "group_id": "g1", "body": "Group is moved to Thursday.",
		"urgent": true, "urgent_reason": "moved today"}
	if status, body := p.do(t, http.MethodPost, "/v1/announcements", req); status != http.StatusAccepted {
		t.Fatalf("POST a2 = %d %v", status, body)
	}
	p.eventually(t, "/v1/announcements/a2", func(m map[string]any) bool { return m["sent"].(float64) >= 2 })
	if status, body := p.do(t, http.MethodPost, "/v1/announcements/a2/cancel", nil); status != http.StatusOK || body["state"] != "cancelled" {
		t.Fatalf("cancel = %d %v", status, body)
	}
	a2 := p.eventuallyWithin(t, 30*time.Second, "/v1/announcements/a2", func(m map[string]any) bool {
		return m["queued"] == float64(0) && m["deferred"] == float64(0)
	})
	sum := a2["sent"].(float64) + a2["cancelled"].(float64) + a2["skipped"].(float64) + a2["failed"].(float64)
	if sum != a2["total"].(float64) || a2["cancelled"].(float64) == 0 || a2["sent"].(float64) >= 21 {
		t.Errorf("after cancel: %v (sent+cancelled+skipped+failed = %v)", a2, sum)
	}
	if status, _ := p.do(t, http.MethodPost, "/v1/announcements/a1/cancel", nil); status != http.StatusConflict {
		t.Errorf("cancelling a finished announcement = %d, want 409", status)
	}

	// The audit names the urgent send with its reason.
	_, audit := p.do(t, http.MethodGet, "/v1/audit", nil)
	found := false
	for _, e := range audit["audit"].([]any) {
		e := e.(map[string]any)
		found = found || (e["action"] == "announcement.urgent" && e["target"] == "a1" && e["detail"] == "room changed today")
	}
	if !found {
		t.Errorf("no audit row for the urgent announcement: %v", audit)
	}

	// Not urgent, to a member whose clock says night: deferred into their
	// window, not sent; cancelling settles it at once.
	zone := nightZone(t)
	night := []any{
		event("g2-name", "group.upserted", time.Now().Add(-time.Minute), map[string]any{"group_id": "g2", "name": "Night owls"}),
		event("client-n1", "client.upserted", time.Now().Add(-time.Minute), map[string]any{"client_id": "n1", "first_name": "Nia", "timezone": zone, "phone": "+14155559101"}),
		event("consent-n1", "consent.granted", time.Now().Add(-time.Minute), map[string]any{"client_id": "n1", "channel": "sms", "purpose": "announcements", "source": "e2e"}),
		event("member-n1", "group.member_added", time.Now().Add(-time.Minute), map[string]any{"group_id": "g2", "client_id": "n1"}),
	}
	if status, body := p.do(t, http.MethodPost, "/v1/events", night); status != http.StatusAccepted {
		t.Fatalf("posting night events: %d %v", status, body)
	}
	p.eventually(t, "/v1/groups/g2", func(m map[string]any) bool {
		ms := m["members"].([]any)
		return len(ms) == 1 && ms[0].(map[string]any)["reachable"] == true
	})
	if status, body := p.do(t, http.MethodPost, "/v1/announcements", map[string]any{"announcement_id": "a4", "group_id": "g2", "body": "See you Tuesday."}); status != http.StatusAccepted {
		t.Fatalf("POST a4 = %d %v", status, body)
	}
	p.eventuallyWithin(t, 20*time.Second, "/v1/announcements/a4", func(m map[string]any) bool {
		return m["deferred"] == float64(1) && m["state"] == "sending" && m["sent"] == float64(0)
	})
	if status, body := p.do(t, http.MethodPost, "/v1/announcements/a4/cancel", nil); status != http.StatusOK {
		t.Fatalf("cancel a4 = %d %v", status, body)
	}
	p.eventuallyWithin(t, 40*time.Second, "/v1/announcements/a4", func(m map[string]any) bool {
		return m["cancelled"] == float64(1) && m["deferred"] == float64(0) && m["state"] == "cancelled"
	})
	for to := range sentTo() {
		if to == "sms +14155559101" {
			t.Errorf("the deferred, cancelled announcement reached its member")
		}
	}

	// A lint-failing body is refused with the findings.
	status, body = p.do(t, http.MethodPost, "/v1/announcements", map[string]any{
		"announcement_id": "a3", "group_id": "g1", "body": "Our depression group: reply CANCEL to skip."})
	if status != http.StatusUnprocessableEntity || len(body["lint"].([]any)) != 2 {
		t.Errorf("lint-failing body = %d %v, want 422 with two findings", status, body)
	}
}

// nightZone is a time zone where it is now between 00:00 and 06:00, well
// outside the default 08:00-21:00 window.
func nightZone(t *testing.T) string {
	t.Helper()
	for off := -12; off <= 12; off++ {
		name := fmt.Sprintf("Etc/GMT%+d", off)
		if off == 0 {
			name = "Etc/GMT"
		}
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue
		}
		if h := time.Now().In(loc).Hour(); h >= 0 && h < 6 {
			return name
		}
	}
	t.Fatal("no zone where it is night now")
	return ""
}

// eventuallyWithin is eventually with its own deadline.
func (p *devProcess) eventuallyWithin(t *testing.T, d time.Duration, path string, check func(map[string]any) bool) map[string]any {
	t.Helper()
	var last map[string]any
	var status int
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		status, last = p.do(t, http.MethodGet, path, nil)
		if status == http.StatusOK && check(last) {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s never satisfied the check within %v; last %d %v", path, d, status, last)
	return nil
}
