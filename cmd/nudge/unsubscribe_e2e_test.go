package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// noonZone is an IANA zone where it is about noon now, so the client's
// quiet hours never hold the test's emails back.
func noonZone() string {
	off := 12 - time.Now().UTC().Hour()
	switch {
	case off > 14:
		off -= 24
	case off < -12:
		off += 24
	}
	switch {
	case off > 0:
		return fmt.Sprintf("Etc/GMT-%d", off) // POSIX sign: GMT-5 is UTC+5
	case off < 0:
		return fmt.Sprintf("Etc/GMT+%d", -off)
	}
	return "Etc/GMT"
}

// TestUnsubscribeLinkEndToEnd follows an email's unsubscribe link from the
// message the fake SendGrid captured: the List-Unsubscribe header (RFC
// 8058) and the link in the body are the same signed link; GET shows a
// page and changes nothing; a forged token changes nothing; the one-click
// POST revokes email consent for that purpose, recorded with its source;
// and the next email of that purpose is not sent.
func TestUnsubscribeLinkEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	p := startDev(t, buildNudge(t), t.TempDir(), freeAddr(t))
	base := time.Now().Add(-time.Minute)
	starts := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	booked := func(id string) map[string]any {
		return event("unsub-"+id, "session.booked", time.Now(), map[string]any{
			"session_id": id, "client_id": "c_u", "starts_at": starts.Format(time.RFC3339)})
	}
	status, body := p.do(t, http.MethodPost, "/v1/events", []any{
		event("unsub-client", "client.upserted", base, map[string]any{
			"client_id": "c_u", "first_name": "Uma", "timezone": noonZone(), "email": "uma@example.com", "preferred_channel": "email"}),
		event("unsub-consent", "consent.granted", base.Add(time.Second), map[string]any{
			"client_id": "c_u", "channel": "email", "purpose": "reminders", "source": "intake-form"}),
	})
	if status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d %v", status, body)
	}
	p.eventually(t, "/v1/clients/c_u", func(m map[string]any) bool { return emailReminders(m) == "active" })
	if status, body = p.do(t, http.MethodPost, "/v1/events", []any{booked("s_u1")}); status != http.StatusAccepted {
		t.Fatalf("booking: %d %v", status, body)
	}

	// The booking confirmation, as the fake SendGrid received it.
	var mail map[string]any
	for deadline := time.Now().Add(15 * time.Second); mail == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		mail = firstEmailTo(p, t, "uma@example.com")
	}
	if mail == nil {
		t.Fatal("no email reached the fake SendGrid")
	}
	headers, _ := mail["headers"].(map[string]any)
	listUnsub, _ := headers["List-Unsubscribe"].(string)
	if !strings.HasPrefix(listUnsub, "<http://"+p.addr+"/u/") || !strings.HasSuffix(listUnsub, ">") {
		t.Fatalf("List-Unsubscribe = %q (headers %v)", listUnsub, headers)
	}
	if headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %v", headers["List-Unsubscribe-Post"])
	}
	link := strings.Trim(listUnsub, "<>")
	if !strings.Contains(mail["body"].(string), link) {
		t.Errorf("the email's text does not carry the same link %s", link)
	}
	if strings.Contains(link, "c_u") || strings.Contains(link, "uma") {
		t.Errorf("link %s shows the client", link)
	}

	// GET: a kind page with a button; nothing changes.
	code, page := fetch(t, http.MethodGet, link, "")
	if code != http.StatusOK || !strings.Contains(page, `<form method="post">`) || !strings.Contains(page, "appointment reminder") {
		t.Fatalf("GET link: %d\n%s", code, page)
	}
	// A forged or altered token: 400, nothing changes.
	forged := link[:len(link)-3] + "AAA"
	if code, _ := fetch(t, http.MethodPost, forged, "List-Unsubscribe=One-Click"); code != http.StatusBadRequest {
		t.Errorf("POST forged link: %d, want 400", code)
	}
	time.Sleep(300 * time.Millisecond)
	if _, c := p.do(t, http.MethodGet, "/v1/clients/c_u", nil); emailReminders(c) != "active" {
		t.Fatalf("consent after GET and a forged POST: %v", c["consents"])
	}

	// RFC 8058 one-click.
	if code, page := fetch(t, http.MethodPost, link, "List-Unsubscribe=One-Click"); code != http.StatusOK || !strings.Contains(page, "unsubscribed") {
		t.Fatalf("one-click POST: %d\n%s", code, page)
	}
	c := p.eventually(t, "/v1/clients/c_u", func(m map[string]any) bool { return emailReminders(m) == "revoked" })
	t.Logf("consents after the link: %v", c["consents"])

	// The next email of that purpose is not sent.
	if status, body = p.do(t, http.MethodPost, "/v1/events", []any{booked("s_u2")}); status != http.StatusAccepted {
		t.Fatalf("second booking: %d %v", status, body)
	}
	p.eventually(t, "/v1/deliveries?session_id=s_u2", func(m map[string]any) bool {
		d, _ := m["deliveries"].([]any)
		return len(d) > 0 && d[0].(map[string]any)["state"] == "skipped" && d[0].(map[string]any)["reason"] == "no_consent"
	})
	if n := countEmailsTo(p, t, "uma@example.com"); n != 1 {
		t.Errorf("%d emails reached uma@example.com, want only the first", n)
	}
}

// emailReminders is "active", "revoked" (by the link) or "" for the
// client's email/reminders consent.
func emailReminders(client map[string]any) string {
	cs, _ := client["consents"].([]any)
	for _, c := range cs {
		m := c.(map[string]any)
		if m["channel"] == "email" && m["purpose"] == "reminders" {
			switch {
			case m["active"] == true:
				return "active"
			case m["source"] == "email:unsubscribe-link":
				return "revoked"
			}
		}
	}
	return ""
}

func outboxEmails(p *devProcess, t *testing.T, to string) []map[string]any {
	_, box := p.do(t, http.MethodGet, "/v1/dev/outbox", nil)
	msgs, _ := box["messages"].([]any)
	var out []map[string]any
	for _, m := range msgs {
		mm := m.(map[string]any)
		if mm["channel"] == "email" && mm["to"] == to {
			out = append(out, mm)
		}
	}
	return out
}

func firstEmailTo(p *devProcess, t *testing.T, to string) map[string]any {
	if m := outboxEmails(p, t, to); len(m) > 0 {
		return m[len(m)-1]
	}
	return nil
}

func countEmailsTo(p *devProcess, t *testing.T, to string) int { return len(outboxEmails(p, t, to)) }

// fetch calls url without the API token, as a mail client would.
func fetch(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
