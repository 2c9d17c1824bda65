package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/calcom"
	"github.com/nudgehq/nudge/internal/fakeprovider"
)

// reminderEnv runs `nudge dev` against a fake Twilio that lives in the
// test process, so it sees every message across restarts of nudge.
type reminderEnv struct {
	bin, dataDir, addr string
	args               []string
	tw                 *fakeprovider.Twilio
	twURL              string
	p                  *devProcess
}

const (
	e2eTwilioAccount = "AC00000000000000000000000000000000"
	e2eTwilioToken   = "fedcba9876543210fedcba9876543210"
	e2eAPIToken      = "reminders-e2e-token"
)

func newReminderEnv(t *testing.T, args ...string) *reminderEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	e := &reminderEnv{bin: buildNudge(t), dataDir: t.TempDir(), addr: freeAddr(t), args: args}
	e.tw = fakeprovider.NewTwilio(fakeprovider.TwilioConfig{AccountSid: e2eTwilioAccount, AuthToken: e2eTwilioToken})
	srv, err := e.tw.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e.twURL = srv.URL
	return e
}

func (e *reminderEnv) start(t *testing.T) {
	t.Helper()
	var out bytes.Buffer
	args := append([]string{"dev", "--data-dir", e.dataDir, "--http", e.addr,
		"--twilio-base-url", e.twURL, "--twilio-account-sid", e2eTwilioAccount, "--twilio-auth-token", e2eTwilioToken,
		"--sms-rate", "0", "--quiet-hours", "00:00-24:00"}, e.args...)
	cmd := exec.Command(e.bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "NUDGE_API_TOKEN="+e2eAPIToken)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + e.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nudge dev did not become ready:\n%s", out.String())
		}
	}
	e.p = &devProcess{cmd: cmd, addr: e.addr, token: e2eAPIToken, stdout: &out}
}

func (e *reminderEnv) post(t *testing.T, events ...any) {
	t.Helper()
	if status, body := e.p.do(t, http.MethodPost, "/v1/events", events); status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d %v", status, body)
	}
}

// client posts a client on its own phone, with SMS reminder consent.
func (e *reminderEnv) client(t *testing.T, id, phone string) {
	t.Helper()
	base := time.Now().Add(-time.Hour)
	e.post(t,
		event("cl-"+id, "client.upserted", base, map[string]any{"client_id": id, "first_name": "Ada", "timezone": "America/New_York", "phone": phone}),
		event("co-"+id, "consent.granted", base, map[string]any{"client_id": id, "channel": "sms", "purpose": "reminders", "source": "e2e"}),
	)
}

func booked(id, session, client string, starts time.Time) map[string]any {
	return event(id, "session.booked", time.Now(), map[string]any{
		"session_id": session, "client_id": client, "starts_at": starts.Format(time.RFC3339), "location_kind": "in_person"})
}

// reminders returns the reminder SMS the fake received for phone.
func (e *reminderEnv) reminders(phone string) []fakeprovider.CapturedMessage {
	var out []fakeprovider.CapturedMessage
	for _, m := range e.tw.Messages() {
		if m.Direction != "inbound" && m.To == phone && strings.Contains(m.Body, "reminder from") {
			out = append(out, m)
		}
	}
	return out
}

// waitFor polls until cond or the deadline.
func waitFor(t *testing.T, until time.Time, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if time.Now().After(until) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sessionReminders is GET /v1/sessions/{id}'s reminders list.
func (e *reminderEnv) sessionReminders(t *testing.T, session string) []map[string]any {
	t.Helper()
	status, body := e.p.do(t, http.MethodGet, "/v1/sessions/"+session, nil)
	if status != http.StatusOK {
		return nil
	}
	var out []map[string]any
	for _, r := range body["reminders"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

// sentKeys are the ledger keys of the session's sent deliveries.
func (e *reminderEnv) sentKeys(t *testing.T, session string) []string {
	t.Helper()
	_, body := e.p.do(t, http.MethodGet, "/v1/deliveries?session_id="+session, nil)
	var keys []string
	for _, d := range body["deliveries"].([]any) {
		d := d.(map[string]any)
		key := d["idempotency_key"].(string)
		// Reminders only: the booking confirmation goes at once and is
		// not what rescheduling is about.
		if strings.HasPrefix(key, "reminder:") && (d["state"] == "sent" || d["state"] == "delivered") {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys
}

// TestRemindersEndToEnd books, reschedules and cancels sessions on a real
// `nudge dev` with offsets of seconds and watches what reaches Twilio: a
// reminder arrives within 1.5 s of its due time, a session rescheduled
// twice gets only its last time's reminders, and one cancelled a second
// before its reminder gets nothing.
func TestRemindersEndToEnd(t *testing.T) {
	e := newReminderEnv(t, "--reminder-offsets", "10s,5s", "--calcom-secret", "calcom-e2e-secret")
	e.start(t)
	const (
		phoneOnTime = "+14155550111"
		phoneMoved  = "+14155550112"
		phoneCancel = "+14155550113"
	)
	e.client(t, "c_on_time", phoneOnTime)
	e.client(t, "c_moved", phoneMoved)
	e.client(t, "c_cancel", phoneCancel)
	e.p.eventually(t, "/v1/clients/c_cancel", func(m map[string]any) bool { return len(m["consents"].([]any)) == 1 })

	t0 := time.Now().Truncate(time.Second).Add(3 * time.Second)
	evTime := time.Now()
	e.post(t,
		booked("b-on-time", "S_on_time", "c_on_time", t0.Add(12*time.Second)), // reminders due t0+2s, t0+7s
		booked("b-cancel", "S_cancel", "c_cancel", t0.Add(13*time.Second)),    // due t0+3s, t0+8s
		event("b-moved", "session.booked", evTime, map[string]any{
			"session_id": "S_moved", "client_id": "c_moved", "starts_at": t0.Add(12 * time.Second).Format(time.RFC3339)}),
		event("r1-moved", "session.rescheduled", evTime.Add(time.Millisecond), map[string]any{
			"session_id": "S_moved", "starts_at": t0.Add(14 * time.Second).Format(time.RFC3339)}),
		event("r2-moved", "session.rescheduled", evTime.Add(2*time.Millisecond), map[string]any{
			"session_id": "S_moved", "starts_at": t0.Add(16 * time.Second).Format(time.RFC3339)}), // due t0+6s, t0+11s
	)

	// Visibility: the scheduled reminders, before they fire.
	for session, n := range map[string]int{"S_on_time": 2, "S_cancel": 2, "S_moved": 6} {
		waitFor(t, t0, session+"'s reminders to be scheduled", func() bool {
			rs := e.sessionReminders(t, session)
			scheduled := 0
			for _, r := range rs {
				if r["state"] == "scheduled" {
					scheduled++
				}
			}
			return len(rs) == n && scheduled == 2
		})
	}
	rs := e.sessionReminders(t, "S_on_time")
	if rs[0]["offset"] != "10s" || rs[0]["channel"] != "sms" || rs[0]["fire_at"] != t0.Add(2*time.Second).UTC().Format(time.RFC3339) {
		t.Errorf("first reminder of S_on_time = %v", rs[0])
	}
	_, up := e.p.do(t, http.MethodGet, "/v1/reminders?upcoming=1", nil)
	// S_on_time ×2, S_cancel ×2, S_moved's last version ×2.
	if n := len(up["reminders"].([]any)); n != 6 {
		t.Errorf("upcoming reminders: %d, want 6: %v", n, up)
	}

	// Cancel S_cancel one second before its first reminder.
	waitFor(t, t0.Add(3*time.Second), "the moment to cancel", func() bool { return !time.Now().Before(t0.Add(2 * time.Second)) })
	e.post(t, event("c-cancel", "session.cancelled", time.Now(), map[string]any{"session_id": "S_cancel"}))

	// Everything has fired by t0+11s; allow the 1.5 s bound and a margin.
	deadline := t0.Add(14 * time.Second)
	waitFor(t, deadline, "S_on_time's two reminders", func() bool { return len(e.reminders(phoneOnTime)) >= 2 })
	waitFor(t, deadline, "S_moved's two reminders", func() bool { return len(e.reminders(phoneMoved)) >= 2 })
	time.Sleep(time.Until(t0.Add(13 * time.Second)))

	dues := map[string][]time.Time{
		phoneOnTime: {t0.Add(2 * time.Second), t0.Add(7 * time.Second)},
		phoneMoved:  {t0.Add(6 * time.Second), t0.Add(11 * time.Second)},
	}
	var worst time.Duration
	for phone, due := range dues {
		got := e.reminders(phone)
		if len(got) != 2 {
			t.Fatalf("%s got %d reminders, want 2", phone, len(got))
		}
		for i, m := range got {
			late := m.Created.Sub(due[i])
			t.Logf("reminder to %s due %s arrived %+.3fs", phone, due[i].Format("15:04:05"), late.Seconds())
			if late < -100*time.Millisecond || late > 1500*time.Millisecond {
				t.Errorf("reminder to %s due %s arrived %v late, want within 1.5s", phone, due[i].Format("15:04:05"), late)
			}
			worst = max(worst, late)
		}
	}
	fmt.Printf("reminder lateness: worst %.3fs over 4 reminders\n", worst.Seconds())

	if got := e.reminders(phoneCancel); len(got) != 0 {
		t.Errorf("cancelled session got %d reminders: %q", len(got), got[0].Body)
	}
	for _, r := range e.sessionReminders(t, "S_cancel") {
		if r["state"] != "cancelled" || r["reason"] != "cancelled" {
			t.Errorf("S_cancel reminder %v, want cancelled", r)
		}
	}
	wantMoved := []string{"reminder:S_moved:v3:10s:sms", "reminder:S_moved:v3:5s:sms"}
	if got := e.sentKeys(t, "S_moved"); !slices.Equal(got, wantMoved) {
		t.Errorf("S_moved sent %v, want only the last time's %v", got, wantMoved)
	}
	states := map[string]string{}
	for _, r := range e.sessionReminders(t, "S_moved") {
		reason, _ := r["reason"].(string)
		states[r["key"].(string)] = fmt.Sprint(r["state"], ":", reason)
	}
	if states["reminder:S_moved:v1:10s:sms"] != "cancelled:moved" || states["reminder:S_moved:v3:5s:sms"] != "sent:" {
		t.Errorf("S_moved reminders %v", states)
	}
	if rs := e.sessionReminders(t, "S_on_time"); rs[0]["state"] != "sent" || rs[1]["state"] != "sent" {
		t.Errorf("S_on_time reminders after firing: %v", rs)
	}
	// The booked confirmation went once to the session booked and kept.
	confirmations := 0
	for _, m := range e.tw.Messages() {
		if m.To == phoneOnTime && strings.Contains(m.Body, "you're booked") {
			confirmations++
		}
	}
	if confirmations != 1 {
		t.Errorf("%d booked confirmations, want 1", confirmations)
	}

	// Cal.com: a forged webhook changes nothing; a signed one books.
	body := []byte(`{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-01-01T00:00:00Z","payload":{"uid":"bkE2E","startTime":"` +
		time.Now().Add(72*time.Hour).UTC().Format(time.RFC3339) + `","attendees":[{"name":"Bea Diaz","email":"bea@example.org","timeZone":"Europe/Madrid"}]}}`)
	calcomPost := func(sig string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+e.addr+calcom.Path, bytes.NewReader(body))
		req.Header.Set(calcom.SignatureHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := calcomPost(calcom.Sign("wrong", body)); st != http.StatusForbidden {
		t.Errorf("forged Cal.com webhook: %d, want 403", st)
	}
	if st := calcomPost(calcom.Sign("calcom-e2e-secret", body)); st != http.StatusOK {
		t.Errorf("signed Cal.com webhook: %d, want 200", st)
	}
	session := e.p.eventually(t, "/v1/sessions/calcom-bkE2E", func(m map[string]any) bool { return len(m["reminders"].([]any)) == 2 })
	if session["state"] != "booked" {
		t.Errorf("Cal.com session %v", session)
	}
	e.p.stop(t)
}

// TestRemindersAcrossRestartAndOutage stops `nudge dev` after scheduling:
// a reminder that falls due while it is down but within the staleness
// limit of the restart is sent exactly once; one whose staleness limit
// passed during the outage is skipped as expired, and the ledger says so.
func TestRemindersAcrossRestartAndOutage(t *testing.T) {
	e := newReminderEnv(t, "--reminder-offsets", "20s", "--reminder-staleness", "2s", "--no-send-booked-confirmation")
	e.start(t)
	const phoneOutage, phoneRestart = "+14155550121", "+14155550122"
	e.client(t, "c_outage", phoneOutage)
	e.client(t, "c_restart", phoneRestart)
	e.p.eventually(t, "/v1/clients/c_restart", func(m map[string]any) bool { return len(m["consents"].([]any)) == 1 })

	t0 := time.Now().Truncate(time.Second).Add(3 * time.Second)
	e.post(t,
		booked("b-outage", "S_outage", "c_outage", t0.Add(22*time.Second)),    // due t0+2s, expires t0+4s
		booked("b-restart", "S_restart", "c_restart", t0.Add(30*time.Second)), // due t0+10s
	)
	for _, s := range []string{"S_outage", "S_restart"} {
		waitFor(t, t0, s+"'s reminder to be scheduled", func() bool {
			rs := e.sessionReminders(t, s)
			return len(rs) == 1 && rs[0]["state"] == "scheduled"
		})
	}
	e.p.stop(t)
	if time.Now().After(t0.Add(2 * time.Second)) {
		t.Fatal("nudge took too long to stop: the outage must begin before the first reminder is due")
	}

	// Down past S_outage's due time plus the staleness limit.
	time.Sleep(time.Until(t0.Add(6 * time.Second)))
	e.start(t)

	waitFor(t, t0.Add(15*time.Second), "S_outage's reminder to be skipped", func() bool {
		_, body := e.p.do(t, http.MethodGet, "/v1/deliveries?session_id=S_outage", nil)
		ds, _ := body["deliveries"].([]any)
		return len(ds) == 1 && ds[0].(map[string]any)["state"] == "skipped"
	})
	_, body := e.p.do(t, http.MethodGet, "/v1/deliveries?session_id=S_outage", nil)
	if d := body["deliveries"].([]any)[0].(map[string]any); d["reason"] != "expired" || d["idempotency_key"] != "reminder:S_outage:v1:20s:sms" {
		t.Errorf("S_outage ledger row %v, want skipped: expired", d)
	}
	if rs := e.sessionReminders(t, "S_outage"); rs[0]["state"] != "skipped" || rs[0]["reason"] != "expired" {
		t.Errorf("S_outage reminder %v", rs[0])
	}

	waitFor(t, t0.Add(13*time.Second), "S_restart's reminder", func() bool { return len(e.reminders(phoneRestart)) >= 1 })
	time.Sleep(2 * time.Second) // a second send would show up by now
	if got := e.reminders(phoneRestart); len(got) != 1 {
		t.Errorf("S_restart got %d reminders, want exactly 1", len(got))
	} else {
		t.Logf("reminder after restart arrived %+.3fs after its due time", got[0].Created.Sub(t0.Add(10*time.Second)).Seconds())
	}
	if got := e.reminders(phoneOutage); len(got) != 0 {
		t.Errorf("stale reminder sent after the outage: %q", got[0].Body)
	}
	if got := e.sentKeys(t, "S_restart"); !slices.Equal(got, []string{"reminder:S_restart:v1:20s:sms"}) {
		t.Errorf("S_restart ledger %v", got)
	}
	e.p.stop(t)
}
