package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers/encouragement"
	"github.com/nudgehq/nudge/internal/bus"
)

// encouragementEnv is `nudge dev` with its NATS server reachable from the
// test, so the test can see the clients' cron schedules on JetStream.
type encouragementEnv struct {
	p      *devProcess
	stream jetstream.Stream
}

func newEncouragementEnv(t *testing.T, args ...string) *encouragementEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	natsAddr := freeAddr(t)
	p := startDev(t, buildNudge(t), t.TempDir(), freeAddr(t),
		append([]string{"--nats-listen", natsAddr, "--quiet-hours", "00:00-24:00", "--sms-rate", "0"}, args...)...)
	t.Cleanup(func() { p.stop(t) })
	nc, err := nats.Connect("nats://" + natsAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(t.Context(), bus.StreamNotify)
	if err != nil {
		t.Fatal(err)
	}
	return &encouragementEnv{p: p, stream: st}
}

func (e *encouragementEnv) post(t *testing.T, events ...any) {
	t.Helper()
	if status, body := e.p.do(t, http.MethodPost, "/v1/events", events); status != http.StatusAccepted {
		t.Fatalf("POST /v1/events = %d %v", status, body)
	}
}

// schedule is the client's cron schedule message on JetStream, nil when
// there is none.
func (e *encouragementEnv) schedule(t *testing.T, client string) *jetstream.RawStreamMsg {
	t.Helper()
	m, err := e.stream.GetLastMsgForSubject(t.Context(), encouragement.SubjectSchedule(client))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// outbox is the dev outbox's messages to address, oldest first.
func (e *encouragementEnv) outbox(t *testing.T, to, contains string) []map[string]any {
	t.Helper()
	_, body := e.p.do(t, http.MethodGet, "/v1/dev/outbox", nil)
	var out []map[string]any
	msgs, _ := body["messages"].([]any)
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i].(map[string]any)
		text, _ := m["body"].(string)
		if text == "" {
			text, _ = m["text"].(string)
		}
		if m["to"] == to && strings.Contains(text+toJSON(m), contains) {
			out = append(out, m)
		}
	}
	return out
}

// deliveries is the client's ledger, newest first.
func (e *encouragementEnv) deliveries(t *testing.T, client string) []map[string]any {
	t.Helper()
	_, body := e.p.do(t, http.MethodGet, "/v1/deliveries?limit=200&client_id="+client, nil)
	var out []map[string]any
	rows, _ := body["deliveries"].([]any)
	for _, r := range rows {
		out = append(out, r.(map[string]any))
	}
	return out
}

func (e *encouragementEnv) ledgerRow(t *testing.T, client, key string) map[string]any {
	for _, d := range e.deliveries(t, client) {
		if d["idempotency_key"] == key {
			return d
		}
	}
	return nil
}

func clientEvents(id, zone, phone, email string, consents ...string) []any {
	now := time.Now().Add(-time.Minute)
	data := map[string]any{"client_id": id, "first_name": "Ada", "timezone": zone}
	if phone != "" {
		data["phone"] = phone
	}
	if email != "" {
		data["email"] = email
	}
	evs := []any{event("cl-"+id, "client.upserted", now, data)}
	for _, ch := range consents {
		evs = append(evs, event("co-"+id+"-"+ch, "consent.granted", now, map[string]any{
			"client_id": id, "channel": ch, "purpose": "encouragement", "source": "intake-form"}))
	}
	return evs
}

// TestEncouragementEndToEnd runs encouragement on `nudge dev` with a
// seconds-resolution cron: the text arrives at a fire time in the client's
// zone, once per local day (later fires are cadence skips in the ledger),
// the schedule lives on JetStream with the client's zone, STOP purges it,
// a care pause skips with care_paused and never blocks crisis help, and the
// channel follows consent.
func TestEncouragementEndToEnd(t *testing.T) {
	e := newEncouragementEnv(t)
	const zone = "Asia/Kolkata" // a half-hour offset: the date is the client's
	loc, _ := time.LoadLocation(zone)
	phone := "+14155550161"
	e.post(t, clientEvents("c_enc", zone, phone, "", "sms")...)
	e.post(t, event("sch-enc", "encouragement.schedule_set", time.Now(), map[string]any{"client_id": "c_enc", "cron": "*/4 * * * * *"}))

	client := e.p.eventually(t, "/v1/clients/c_enc", func(m map[string]any) bool {
		enc, _ := m["encouragement"].(map[string]any)
		return enc != nil && enc["cron"] == "*/4 * * * * *"
	})
	if enc := client["encouragement"].(map[string]any); enc["time_zone"] != zone || enc["next_fire_at"] == nil {
		t.Errorf("GET /v1/clients encouragement = %v", enc)
	}
	waitFor(t, time.Now().Add(15*time.Second), "the cron schedule on JetStream", func() bool {
		m := e.schedule(t, "c_enc")
		return m != nil && m.Header.Get("Nats-Schedule") == "*/4 * * * * *"
	})
	if m := e.schedule(t, "c_enc"); m.Header.Get("Nats-Schedule-Time-Zone") != zone || m.Header.Get("Nats-Schedule") != "*/4 * * * * *" {
		t.Errorf("schedule headers = %v", m.Header)
	}

	// The first fire sends, at a fire time (a multiple of 4 seconds).
	var sent []map[string]any
	waitFor(t, time.Now().Add(20*time.Second), "the encouragement text", func() bool {
		sent = e.outbox(t, phone, "Hi Ada")
		return len(sent) > 0
	})
	key := ""
	var fired time.Time
	waitFor(t, time.Now().Add(10*time.Second), "the ledger row", func() bool {
		for _, d := range e.deliveries(t, "c_enc") {
			k := d["idempotency_key"].(string)
			if !strings.Contains(k, ":again:") && d["state"] != "pending" && d["state"] != "sending" {
				key = k
				fired, _ = time.Parse(time.RFC3339Nano, d["created_at"].(string))
				return true
			}
		}
		return false
	})
	if want := "encouragement:c_enc:" + fired.In(loc).Format(time.DateOnly); key != want {
		t.Errorf("key %s, want %s (the client-local date)", key, want)
	}
	if s := fired.Truncate(time.Second).Second() % 4; s != 0 && s != 1 {
		t.Errorf("text decided at %v, not within a second of a fire time", fired)
	}
	line := sent[0]["body"].(string)

	// Later fires the same local day are cadence skips, never a second text.
	waitFor(t, time.Now().Add(20*time.Second), "two cadence skips", func() bool {
		n := 0
		for _, d := range e.deliveries(t, "c_enc") {
			if strings.Contains(d["idempotency_key"].(string), ":again:") && d["reason"] == "cadence_daily_cap" {
				n++
			}
		}
		return n >= 2
	})
	if got := e.outbox(t, phone, "Hi Ada"); len(got) != 1 || got[0]["body"] != line {
		t.Fatalf("%d encouragement texts, want exactly 1", len(got))
	}

	// STOP purges the schedule from JetStream.
	if status, body := e.p.do(t, http.MethodPost, "/v1/dev/inbound", map[string]any{"from": phone, "body": "STOP"}); status/100 != 2 {
		t.Fatalf("inbound STOP: %d %v", status, body)
	}
	waitFor(t, time.Now().Add(20*time.Second), "STOP to purge the schedule", func() bool { return e.schedule(t, "c_enc") == nil })
	e.p.eventually(t, "/v1/clients/c_enc", func(m map[string]any) bool { return m["encouragement"] == nil })

	// Double opt-in: HOPE from a known number, then YES.
	hopePhone := "+14155550164"
	e.post(t, clientEvents("c_hope", zone, hopePhone, "")...)
	// The keyword counts from a known number: wait until ingest knows it.
	e.p.eventually(t, "/v1/clients/c_hope", func(m map[string]any) bool { return m["phone"] == hopePhone })
	for i, body := range []string{"HOPE", "yes"} {
		if status, b := e.p.do(t, http.MethodPost, "/v1/dev/inbound", map[string]any{"from": hopePhone, "body": body}); status/100 != 2 {
			t.Fatalf("inbound %s: %d %v", body, status, b)
		}
		want := []string{"reply YES to get about 2 messages a week", "Welcome to"}[i]
		waitFor(t, time.Now().Add(15*time.Second), "the reply to "+body, func() bool { return len(e.outbox(t, hopePhone, want)) > 0 })
	}
	request := e.outbox(t, hopePhone, "reply YES")[0]["body"].(string)
	for _, must := range []string{"Harbor Practice", "Msg & data rates may apply", "HELP", "STOP"} {
		if !strings.Contains(request, must) {
			t.Errorf("opt-in request %q lacks %q", request, must)
		}
	}
	hope := e.p.eventually(t, "/v1/clients/c_hope", func(m map[string]any) bool { return m["encouragement"] != nil })
	found := false
	for _, c := range hope["consents"].([]any) {
		c := c.(map[string]any)
		found = found || (c["purpose"] == "encouragement" && c["channel"] == "sms" && c["active"] == true && c["source"] == "sms-double-opt-in")
	}
	if !found {
		t.Errorf("no encouragement consent from the double opt-in: %v", hope["consents"])
	}
	waitFor(t, time.Now().Add(10*time.Second), "the default schedule on JetStream", func() bool { return e.schedule(t, "c_hope") != nil })
	if got := e.schedule(t, "c_hope").Header.Get("Nats-Schedule"); got != "0 0 10 * * mon,thu" {
		t.Errorf("schedule after the double opt-in: %q", got)
	}

	// Channel by consent: SMS preferred, but only email consented.
	e.post(t, clientEvents("c_mail", zone, "+14155550162", "mail@example.org", "email")...)
	e.post(t, event("sch-mail", "encouragement.schedule_set", time.Now(), map[string]any{"client_id": "c_mail", "days": []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, "at": "00:00", "themes": []string{"patience"}}))
	e.p.eventually(t, "/v1/clients/c_mail", func(m map[string]any) bool {
		enc, _ := m["encouragement"].(map[string]any)
		return enc != nil && enc["schedule"] == "mon,tue,wed,thu,fri,sat,sun 00:00"
	})
	e.post(t, event("sch-mail-2", "encouragement.schedule_set", time.Now().Add(time.Second), map[string]any{"client_id": "c_mail", "cron": "*/3 * * * * *"}))
	waitFor(t, time.Now().Add(20*time.Second), "the email encouragement", func() bool {
		return len(e.outbox(t, "mail@example.org", "")) > 0
	})
	if got := e.outbox(t, "+14155550162", ""); len(got) != 0 {
		t.Errorf("SMS without SMS consent: %v", got)
	}

	// Care pause: skipped with care_paused; crisis help still goes.
	pausePhone := "+14155550163"
	e.post(t, clientEvents("c_pause", zone, pausePhone, "", "sms")...)
	e.post(t, event("pause-1", "client.care_paused", time.Now(), map[string]any{
		"client_id": "c_pause", "scope": "all", "until": time.Now().Add(time.Hour).Format(time.RFC3339), "requested_by": "dr-lee"}))
	e.p.eventually(t, "/v1/clients/c_pause", func(m map[string]any) bool {
		p, _ := m["care_pause"].(map[string]any)
		return p != nil && p["scope"] == "all" && p["requested_by"] == "dr-lee"
	})
	e.post(t, event("sch-pause", "encouragement.schedule_set", time.Now(), map[string]any{"client_id": "c_pause", "cron": "*/3 * * * * *"}))
	waitFor(t, time.Now().Add(20*time.Second), "a care_paused skip", func() bool {
		for _, d := range e.deliveries(t, "c_pause") {
			if d["reason"] == "care_paused" {
				return true
			}
		}
		return false
	})
	if status, body := e.p.do(t, http.MethodPost, "/v1/dev/inbound", map[string]any{"from": pausePhone, "body": "I want to end my life"}); status/100 != 2 {
		t.Fatalf("inbound crisis message: %d %v", status, body)
	}
	waitFor(t, time.Now().Add(15*time.Second), "crisis help during a care pause", func() bool {
		return len(e.outbox(t, pausePhone, "988")) > 0
	})
	if got := e.outbox(t, pausePhone, "Hi Ada"); len(got) != 0 {
		t.Errorf("encouragement during a care pause: %v", got)
	}

	// A pause ends by itself at until.
	e.post(t, event("pause-2", "client.care_paused", time.Now().Add(time.Second), map[string]any{
		"client_id": "c_pause", "until": time.Now().Add(2 * time.Second).Format(time.RFC3339), "requested_by": "dr-lee"}))
	e.p.eventually(t, "/v1/clients/c_pause", func(m map[string]any) bool {
		p, _ := m["care_pause"].(map[string]any)
		return p != nil && p["scope"] == "non_essential"
	})
	time.Sleep(3 * time.Second)
	e.p.eventually(t, "/v1/clients/c_pause", func(m map[string]any) bool { return m["care_pause"] == nil })
}

// TestJournalEndToEnd runs journal nudges on `nudge dev` with a window that
// opens later today on the client's clock: missed days 1, 2, 3 and 7 of
// separate clients give nudge, none, nudge, nudge, each deferred into the
// window (shown as deferred with not_before); a repeated event gives one;
// journal.entry_written withdraws a waiting nudge.
func TestJournalEndToEnd(t *testing.T) {
	zone, window := "", ""
	for _, z := range []string{"UTC", "America/New_York", "Asia/Tokyo", "Europe/London", "America/Los_Angeles"} {
		loc, _ := time.LoadLocation(z)
		if h := time.Now().In(loc).Hour(); h >= 1 && h <= 20 {
			zone, window = z, fmt.Sprintf("%02d:00-23:59", h+2)
			break
		}
	}
	if zone == "" {
		t.Skip("no zone where the window can open later today")
	}
	e := newEncouragementEnv(t, "--quiet-hours", window)
	loc, _ := time.LoadLocation(zone)
	today := time.Now().In(loc).Format(time.DateOnly)
	for i, days := range []int{1, 2, 3, 7} {
		id := fmt.Sprintf("c_j%d", days)
		phone := fmt.Sprintf("+1415555017%d", i)
		e.post(t, event("cl-"+id, "client.upserted", time.Now().Add(-time.Minute), map[string]any{"client_id": id, "first_name": "Ada", "timezone": zone, "phone": phone}),
			event("co-"+id, "consent.granted", time.Now().Add(-time.Minute), map[string]any{"client_id": id, "channel": "sms", "purpose": "journal", "source": "app"}),
			event("jm-"+id, "journal.day_missed", time.Now(), map[string]any{"client_id": id, "date": today, "missed_days_in_row": days}))
	}
	// The same day reported twice for c_j1.
	e.post(t, event("jm-c_j1-again", "journal.day_missed", time.Now(), map[string]any{"client_id": "c_j1", "date": today, "missed_days_in_row": 1}))
	for _, days := range []int{1, 3, 7} {
		id := fmt.Sprintf("c_j%d", days)
		var row map[string]any
		waitFor(t, time.Now().Add(10*time.Second), "the deferred nudge of "+id, func() bool {
			row = e.ledgerRow(t, id, "journal:"+id+":"+today)
			return row != nil && row["state"] != "pending"
		})
		if row["state"] != "deferred" || row["not_before"] == nil || row["purpose"] != "journal" {
			t.Errorf("%s nudge = %v, want deferred with not_before", id, row)
		}
	}
	e.p.eventually(t, "/v1/events/jm-c_j2", func(m map[string]any) bool { return m["reason"] != nil })
	if rows := e.deliveries(t, "c_j2"); len(rows) != 0 {
		t.Errorf("missed day 2 nudged: %v", rows)
	}
	e.p.eventually(t, "/v1/events/jm-c_j1-again", func(m map[string]any) bool { return m["reason"] != nil })
	if rows := e.deliveries(t, "c_j1"); len(rows) != 1 {
		t.Errorf("a repeated event gave %d nudges, want 1", len(rows))
	}

	// c_j3 writes: the waiting nudge is withdrawn.
	e.post(t, event("jw-c_j3", "journal.entry_written", time.Now(), map[string]any{"client_id": "c_j3", "date": today}))
	waitFor(t, time.Now().Add(10*time.Second), "the nudge to be withdrawn", func() bool {
		row := e.ledgerRow(t, "c_j3", "journal:c_j3:"+today)
		return row != nil && row["state"] == "skipped" && row["reason"] == "journal_entry_written"
	})
	if row := e.ledgerRow(t, "c_j7", "journal:c_j7:"+today); row["state"] != "deferred" {
		t.Errorf("another client's nudge: %v", row)
	}
}
