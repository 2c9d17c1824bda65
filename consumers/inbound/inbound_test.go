package inbound

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/consent"
	"github.com/nudgehq/nudge/internal/keyword"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

// anaWithReminders is a known client who consented to reminders and
// encouragement by SMS and has a session tomorrow.
func anaWithReminders(t *testing.T) *env {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "ana@example.org")
	e.grant("c-ana", vocab.SMS, vocab.Reminders, vocab.Encouragement)
	e.grant("c-ana", vocab.Email, vocab.Reminders)
	e.book("S1", "c-ana", testNow.Add(26*time.Hour))
	return e
}

// The keyword table end to end (invariants 2, 9, 10): each message is
// delivered twice, as Twilio may, and acted on once.
func TestInboundKeywordTable(t *testing.T) {
	for _, c := range []struct {
		body       string
		replies    []string // notification kinds, in order
		events     []string // emitted event types, in order
		smsActive  []string // sms purposes still consented afterwards
		suppressed bool
		needsStaff bool
		kind       string
	}{
		{"STOP", []string{"opted_out"}, []string{publishers.TypeClientOptedOut}, nil, true, false, "opt_out"},
		{"stop", []string{"opted_out"}, []string{publishers.TypeClientOptedOut}, nil, true, false, "opt_out"},
		{"Stop.", []string{"opted_out"}, []string{publishers.TypeClientOptedOut}, nil, true, false, "opt_out"},
		{"please stop texting me", []string{"opted_out"}, []string{publishers.TypeClientOptedOut}, nil, true, false, "opt_out"},
		{"UNSUBSCRIBE", []string{"opted_out"}, []string{publishers.TypeClientOptedOut}, nil, true, false, "opt_out"},
		{"HELP", []string{"help"}, nil, []string{"encouragement", "reminders"}, false, false, "help"},
		{"info", []string{"help"}, nil, []string{"encouragement", "reminders"}, false, false, "help"},
		{"I want to die", []string{"crisis"}, []string{publishers.TypeSafetyCrisisReply}, []string{"encouragement", "reminders"}, false, true, "crisis"},
		{"C", []string{"confirmed"}, []string{publishers.TypeSessionConfirmed}, []string{"encouragement", "reminders"}, false, false, "confirm"},
		{"yes c", []string{"confirmed"}, []string{publishers.TypeSessionConfirmed}, []string{"encouragement", "reminders"}, false, false, "confirm"},
		{"YES", []string{"confirmed"}, []string{publishers.TypeSessionConfirmed}, []string{"encouragement", "reminders"}, false, false, "confirm"},
		{"R", []string{"reschedule_requested"}, []string{publishers.TypeSessionRescheduleRequested}, []string{"encouragement", "reminders"}, false, false, "reschedule"},
		{"can we talk about friday? 🙂", nil, nil, []string{"encouragement", "reminders"}, false, true, "unknown"},
		{"I'll stop by after work", nil, nil, []string{"encouragement", "reminders"}, false, true, "unknown"},
	} {
		t.Run(c.body, func(t *testing.T) {
			e := anaWithReminders(t)
			e.text("SM1", anaPhone, c.body)
			e.text("SM1", anaPhone, c.body) // Twilio retried

			if got := e.replies(); !slices.Equal(got, c.replies) {
				t.Fatalf("replies %v, want %v", got, c.replies)
			}
			for _, n := range e.disp.notifications() {
				if n.Key != "reply:SM1" || n.Purpose != vocab.Replies || n.Channel != vocab.SMS || n.To != anaPhone || !n.Urgent || n.ClientID != "c-ana" {
					t.Fatalf("reply %+v", n)
				}
			}
			if got := e.eventTypes(); !slices.Equal(got, c.events) {
				t.Fatalf("events %v, want %v", got, c.events)
			}
			if got := e.active("c-ana", vocab.SMS); !slices.Equal(got, c.smsActive) {
				t.Fatalf("sms consent %v, want %v", got, c.smsActive)
			}
			if got := e.active("c-ana", vocab.Email); !slices.Equal(got, []string{"reminders"}) {
				t.Fatalf("email consent %v: an SMS keyword touched email", got)
			}
			if got := e.suppressed(vocab.SMS, anaPhone); got != c.suppressed {
				t.Fatalf("suppressed %v, want %v", got, c.suppressed)
			}
			m := e.inbound("SM1")
			if m.Body != c.body || m.Kind != c.kind || m.NeedsStaff != c.needsStaff || m.ClientID != "c-ana" || m.ProcessedAt.IsZero() {
				t.Fatalf("inbound row %+v", m)
			}
		})
	}
}

// After STOP the ledger says why: every purpose revoked by the keyword,
// under the message's id.
func TestInboundStopLedger(t *testing.T) {
	e := anaWithReminders(t)
	const body = "please stop texting me"
	kw := keyword.Classify(body).Keyword
	e.text("SM1", anaPhone, body)
	ledger, err := e.store.ConsentLedger(t.Context(), "c-ana")
	if err != nil {
		t.Fatal(err)
	}
	var revoked []string
	for _, l := range ledger {
		if l.Action == store.ConsentRevoked {
			if l.Source != "sms:"+kw || l.EventID != "SM1:c-ana" || l.Channel != vocab.SMS {
				t.Fatalf("revocation %+v", l)
			}
			revoked = append(revoked, string(l.Purpose))
		}
	}
	slices.Sort(revoked)
	if want := []string{"announcements", "encouragement", "journal", "reminders"}; !slices.Equal(revoked, want) {
		t.Fatalf("revoked %v, want every purpose %v", revoked, want)
	}
	ev := e.disp.emittedOf(publishers.TypeClientOptedOut)[0]
	data, err := publishers.DataAs[publishers.ClientOptedOut](ev)
	if err != nil {
		t.Fatal(err)
	}
	if data.ClientID != "c-ana" || data.Channel != "sms" || data.Keyword != kw || data.Source != "sms_keyword" {
		t.Fatalf("opted-out data %+v", data)
	}
}

// After STOP nothing but the one confirmation goes out (invariant 2 in docs/invariants.md): a
// second STOP gets no second confirmation, HELP and C get no answer (C
// still confirms the session), crisis help still goes.
func TestInboundAfterStopOnlyTheConfirmation(t *testing.T) {
	e := anaWithReminders(t)
	e.text("SM1", anaPhone, "STOP")
	e.text("SM2", anaPhone, "stop")
	e.text("SM3", anaPhone, "HELP")
	e.text("SM4", anaPhone, "C")
	e.text("SM5", anaPhone, "R")
	if got := e.replies(); !slices.Equal(got, []string{"opted_out"}) {
		t.Fatalf("replies after STOP %v, want only the one confirmation", got)
	}
	if got := e.disp.emittedOf(publishers.TypeSessionConfirmed); len(got) != 1 {
		t.Fatalf("an opted-out client's C must still confirm the session: %d events", len(got))
	}
	e.text("SM6", anaPhone, "i want to kill myself")
	if got := e.replies(); !slices.Equal(got, []string{"opted_out", "crisis"}) {
		t.Fatalf("replies %v: crisis help must go even after STOP", got)
	}
}

// START restores exactly what the client's own STOP revoked.
func TestInboundStartResubscribes(t *testing.T) {
	e := anaWithReminders(t)
	// Staff revoked encouragement before the STOP: START must not bring it back.
	_, err := e.store.AppendConsent(t.Context(), store.EventRef{}, store.ConsentEntry{
		ClientID: "c-ana", Channel: vocab.SMS, Purpose: vocab.Encouragement,
		Action: store.ConsentRevoked, Source: "staff:alice", OccurredAt: testNow.Add(-time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.text("SM1", anaPhone, "STOP")
	// A reminder already in flight failed with 21610 after the STOP.
	if _, err := e.c.consent.OptOut(t.Context(), consent.OptOut{Reason: consent.Twilio21610, Address: anaPhone,
		ClientID: "c-ana", Cause: "twilio-21610:SM0", At: testNow}); err != nil {
		t.Fatal(err)
	}
	if a := e.active("c-ana", vocab.SMS); len(a) != 0 {
		t.Fatalf("active after STOP: %v", a)
	}

	e.text("SM2", anaPhone, "Start")
	e.text("SM2", anaPhone, "Start")
	if got := e.active("c-ana", vocab.SMS); !slices.Equal(got, []string{"reminders"}) {
		t.Fatalf("after START: %v, want only reminders (journal and announcements were never granted, encouragement was revoked by staff)", got)
	}
	if e.suppressed(vocab.SMS, anaPhone) {
		t.Fatal("still suppressed after START")
	}
	if got := e.replies(); !slices.Equal(got, []string{"opted_out", "resubscribed"}) {
		t.Fatalf("replies %v", got)
	}
	ledger, err := e.store.ConsentLedger(t.Context(), "c-ana")
	if err != nil {
		t.Fatal(err)
	}
	last := ledger[len(ledger)-1]
	if last.Action != store.ConsentGranted || last.Source != "sms:START" || last.WordingVersion != "v3" || last.EventID != "SM2:c-ana" {
		t.Fatalf("re-grant %+v", last)
	}
	// YES after an opt-out is an opt-in, not a confirmation.
	e.text("SM3", anaPhone, "STOP")
	e.text("SM4", anaPhone, "YES")
	if got := e.inbound("SM4").Kind; got != "opt_in" {
		t.Fatalf("YES after STOP: kind %s", got)
	}
	if got := e.active("c-ana", vocab.SMS); !slices.Equal(got, []string{"reminders"}) {
		t.Fatalf("after YES: %v", got)
	}
}

// A STOP from a number nudge does not know still gets the confirmation and
// blocks the number; START lifts it.
func TestInboundStrangerStopAndStart(t *testing.T) {
	e := newEnv(t)
	const stranger = "+13125550142"
	e.text("SM1", stranger, "STOP")
	e.text("SM1", stranger, "STOP")
	notes := e.disp.notifications()
	if len(notes) != 1 || notes[0].Kind != "opted_out" || notes[0].ClientID != "" || notes[0].To != stranger {
		t.Fatalf("replies %+v", notes)
	}
	if !e.suppressed(vocab.SMS, stranger) {
		t.Fatal("stranger's number not suppressed")
	}
	if evs := e.disp.emitted(); len(evs) != 0 {
		t.Fatalf("events for a stranger: %v", evs)
	}
	e.text("SM2", stranger, "STOP")
	if got := e.replies(); !slices.Equal(got, []string{"opted_out"}) {
		t.Fatalf("a second STOP was confirmed again: %v", got)
	}
	e.text("SM3", stranger, "UNSTOP")
	if e.suppressed(vocab.SMS, stranger) {
		t.Fatal("still suppressed after UNSTOP")
	}
	if got := e.replies(); !slices.Equal(got, []string{"opted_out", "resubscribed"}) {
		t.Fatalf("replies %v", got)
	}
	// C from a stranger: nothing to confirm, it waits for staff.
	e.text("SM4", stranger, "C")
	if m := e.inbound("SM4"); !m.NeedsStaff || m.ClientID != "" {
		t.Fatalf("stranger's C: %+v", m)
	}
	if got := len(e.replies()); got != 2 {
		t.Fatalf("a stranger's C was answered")
	}
}

// Invariant 9 in docs/invariants.md: crisis language gets the crisis reply at once and a staff
// alert that names the inbox message, never its text; never encouragement.
func TestInboundCrisis(t *testing.T) {
	e := anaWithReminders(t)
	body := "I can't go on anymore"
	e.text("SM1", anaPhone, body)
	notes := e.disp.notifications()
	if len(notes) != 1 || notes[0].Kind != "crisis" || !notes[0].Urgent || !notes[0].Priority || notes[0].Key != "reply:SM1" {
		t.Fatalf("replies %+v", notes)
	}
	alerts := e.disp.emittedOf(publishers.TypeSafetyCrisisReply)
	if len(alerts) != 1 {
		t.Fatalf("alerts: %d", len(alerts))
	}
	a := alerts[0]
	if a.Subject != "/v1/inbox/SM1" {
		t.Fatalf("alert subject %q, want the inbox link", a.Subject)
	}
	raw, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "go on") || strings.Contains(string(raw), anaPhone) {
		t.Fatalf("the alert carries the message or the number: %s", raw)
	}
	data, err := publishers.DataAs[publishers.SafetyCrisisReply](a)
	if err != nil {
		t.Fatal(err)
	}
	if data.ClientID != "c-ana" || data.InboundMessageID != "SM1" || !data.AutoReplySent {
		t.Fatalf("alert data %+v", data)
	}
	if m := e.inbound("SM1"); m.Body != body || !m.NeedsStaff {
		t.Fatalf("inbox row %+v", m)
	}
	if strings.Contains(e.logs.String(), "go on") || strings.Contains(e.logs.String(), anaPhone) {
		t.Fatalf("logs carry the message or the number:\n%s", e.logs)
	}
}

// Crisis and STOP together: help first, then the opt-out with its one
// confirmation; STOP still wins for everything later.
func TestInboundCrisisAndStop(t *testing.T) {
	e := anaWithReminders(t)
	e.text("SM1", anaPhone, "STOP. I want to die")
	e.text("SM1", anaPhone, "STOP. I want to die")
	notes := e.disp.notifications()
	var got []string
	for _, n := range notes {
		got = append(got, n.Kind+"@"+n.Key)
	}
	if want := []string{"crisis@reply:SM1", "opted_out@reply:SM1:opted_out"}; !slices.Equal(got, want) {
		t.Fatalf("replies %v, want %v", got, want)
	}
	if a := e.active("c-ana", vocab.SMS); len(a) != 0 {
		t.Fatalf("sms consent after crisis+STOP: %v", a)
	}
	if got := e.eventTypes(); !slices.Equal(got, []string{publishers.TypeSafetyCrisisReply, publishers.TypeClientOptedOut}) {
		t.Fatalf("events %v", got)
	}
}

// A crisis from an unknown number still alerts staff.
func TestInboundCrisisFromStranger(t *testing.T) {
	e := newEnv(t)
	e.text("SM1", "+13125550142", "i want to end my life")
	alerts := e.disp.emittedOf(publishers.TypeSafetyCrisisReply)
	if len(alerts) != 1 {
		t.Fatalf("alerts %d", len(alerts))
	}
	data, _ := publishers.DataAs[publishers.SafetyCrisisReply](alerts[0])
	if data.ClientID != UnknownClientID {
		t.Fatalf("alert client %q", data.ClientID)
	}
	if got := e.replies(); !slices.Equal(got, []string{"crisis"}) {
		t.Fatalf("replies %v", got)
	}
}

// C confirms the soonest upcoming session of the clients at the number.
func TestInboundConfirm(t *testing.T) {
	e := anaWithReminders(t)
	e.book("S0", "c-ana", testNow.Add(-time.Hour)) // already started
	e.book("S2", "c-ana", testNow.Add(72*time.Hour))
	e.text("SM1", anaPhone, "C to confirm")
	evs := e.disp.emittedOf(publishers.TypeSessionConfirmed)
	if len(evs) != 1 {
		t.Fatalf("confirmed events %d", len(evs))
	}
	data, _ := publishers.DataAs[publishers.SessionConfirmed](evs[0])
	if data.SessionID != "S1" || data.ClientID != "c-ana" || data.Channel != "sms" || !data.ConfirmedAt.Equal(testNow) {
		t.Fatalf("confirmed data %+v", data)
	}
	n := e.disp.notifications()[0]
	if n.Kind != "confirmed" || n.SessionID != "S1" || n.SessionVersion != 1 || !n.SessionStarts.Equal(testNow.Add(26*time.Hour)) {
		t.Fatalf("ack %+v", n)
	}
	if e.inbound("SM1").NeedsStaff {
		t.Fatal("a confirmed C landed in the inbox")
	}
}

// C without an upcoming session waits in the inbox, unanswered.
func TestInboundConfirmWithoutSession(t *testing.T) {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "")
	e.grant("c-ana", vocab.SMS, vocab.Reminders)
	e.text("SM1", anaPhone, "C")
	if n := len(e.disp.notifications()); n != 0 {
		t.Fatalf("%d replies", n)
	}
	if n := len(e.disp.emitted()); n != 0 {
		t.Fatalf("%d events", n)
	}
	if m := e.inbound("SM1"); !m.NeedsStaff || m.Kind != "confirm" {
		t.Fatalf("inbox row %+v", m)
	}
}

// A family phone: STOP applies to everyone on it; one confirmation.
func TestInboundFamilyPhone(t *testing.T) {
	e := newEnv(t)
	e.client("c-ana", anaPhone, "")
	e.client("c-ben", anaPhone, "")
	e.grant("c-ana", vocab.SMS, vocab.Reminders)
	e.grant("c-ben", vocab.SMS, vocab.Reminders, vocab.Journal)
	e.book("S-ben", "c-ben", testNow.Add(3*time.Hour))
	e.book("S-ana", "c-ana", testNow.Add(30*time.Hour))

	e.text("SM1", anaPhone, "c")
	data, _ := publishers.DataAs[publishers.SessionConfirmed](e.disp.emittedOf(publishers.TypeSessionConfirmed)[0])
	if data.SessionID != "S-ben" || data.ClientID != "c-ben" {
		t.Fatalf("confirmed %+v, want the soonest session on the phone", data)
	}

	e.text("SM2", anaPhone, "STOP")
	for _, id := range []string{"c-ana", "c-ben"} {
		if a := e.active(id, vocab.SMS); len(a) != 0 {
			t.Fatalf("%s still has %v", id, a)
		}
	}
	if n := len(e.disp.emittedOf(publishers.TypeClientOptedOut)); n != 2 {
		t.Fatalf("opted-out events %d, want one per client", n)
	}
	if got := e.replies(); !slices.Equal(got, []string{"confirmed", "opted_out"}) {
		t.Fatalf("replies %v", got)
	}
	e.text("SM3", anaPhone, "START")
	if a := e.active("c-ben", vocab.SMS); !slices.Equal(a, []string{"journal", "reminders"}) {
		t.Fatalf("c-ben after START: %v", a)
	}
	if a := e.active("c-ana", vocab.SMS); !slices.Equal(a, []string{"reminders"}) {
		t.Fatalf("c-ana after START: %v", a)
	}
}

// A delivery that failed midway (the bus was down) is finished by
// JetStream's redelivery, and a redelivery after that changes nothing.
func TestInboundRetryFinishesAPartialAttempt(t *testing.T) {
	e := anaWithReminders(t)
	e.disp.failEmit = 1 // the staff alert fails
	if err := e.process(message("SM1", anaPhone, "i want to die")); err == nil {
		t.Fatal("first attempt succeeded with the bus down")
	}
	if m := e.inbound("SM1"); !m.ProcessedAt.IsZero() {
		t.Fatal("a failed attempt was marked processed")
	}
	e.text("SM1", anaPhone, "i want to die")
	e.text("SM1", anaPhone, "i want to die")
	if n := len(e.disp.emittedOf(publishers.TypeSafetyCrisisReply)); n != 1 {
		t.Fatalf("alerts after the retry: %d", n)
	}
	keys := map[string]bool{}
	for _, n := range e.disp.notifications() {
		keys[n.Key] = true
	}
	if len(keys) != 1 || !keys["reply:SM1"] {
		t.Fatalf("reply keys %v: the retry must reuse the key (the ledger sends it once)", keys)
	}
	if m := e.inbound("SM1"); m.ProcessedAt.IsZero() {
		t.Fatal("the retry did not finish the message")
	}

	// STOP failing before its confirmation was queued, and after it: either
	// way the retry leaves exactly one confirmation key (the deliveries
	// ledger sends a key once) and the number suppressed.
	for i, fail := range []func(){
		func() { e.disp.failNotify = 1 },
		func() { e.disp.failEmit = 1 },
	} {
		from := []string{"+14155550901", "+14155550902"}[i]
		e.client("c-"+strings.TrimPrefix(from, "+"), from, "")
		fail()
		sid := "SMstop" + from
		if err := e.process(message(sid, from, "STOP")); err == nil {
			t.Fatal("STOP with the bus down succeeded")
		}
		e.text(sid, from, "STOP")
		e.text(sid, from, "STOP")
		keys := map[string]bool{}
		for _, n := range e.disp.notifications() {
			if n.Kind == "opted_out" && n.To == from {
				keys[n.Key] = true
			}
		}
		if len(keys) != 1 {
			t.Fatalf("case %d: opted_out confirmation keys %v, want 1", i, keys)
		}
		if !e.suppressed(vocab.SMS, from) {
			t.Fatalf("case %d: not suppressed", i)
		}
		if n := len(distinctIDs(e.disp.emittedOf(publishers.TypeClientOptedOut))); n != i+1 {
			t.Fatalf("case %d: %d distinct opted-out events", i, n)
		}
	}
}

// The same message delivered several times at once (Twilio retrying a slow
// answer, JetStream redelivering) is acted on as one message.
func TestInboundConcurrentDeliveries(t *testing.T) {
	e := anaWithReminders(t)
	before := e.ledgerLen("c-ana")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := e.process(message("SM1", anaPhone, "STOP")); err != nil {
				t.Errorf("delivery: %v", err)
			}
		})
	}
	wg.Wait()
	keys := map[string]bool{}
	for _, n := range e.disp.notifications() {
		keys[n.Kind+"@"+n.Key] = true
	}
	if len(keys) != 1 || !keys["opted_out@reply:SM1"] {
		t.Fatalf("replies %v", keys)
	}
	if got := e.ledgerLen("c-ana") - before; got != len(vocab.ConsentPurposes()) {
		t.Fatalf("%d ledger entries appended, want one per purpose", got)
	}
	if ids := distinctIDs(e.disp.emittedOf(publishers.TypeClientOptedOut)); len(ids) != 1 {
		t.Fatalf("opted-out events %v", ids)
	}
}

// When Twilio's own opt-out handling matched the keyword (OptOutType), it
// has already answered the client: nudge records the change and sends no
// second reply. Without OptOutType nudge sends the one reply itself.
func TestInboundTwilioOptOutHandling(t *testing.T) {
	for _, c := range []struct {
		body, optOutType string
		replies          []string
	}{
		{"STOP", "STOP", nil},
		{"STOP", "", []string{"opted_out"}},
		{"HELP", "HELP", nil},
		{"HELP", "", []string{"help"}},
	} {
		t.Run(c.body+"/"+c.optOutType, func(t *testing.T) {
			e := anaWithReminders(t)
			m := message("SM9", anaPhone, c.body)
			m.OptOutType = c.optOutType
			if err := e.process(m); err != nil {
				t.Fatal(err)
			}
			if got := e.replies(); !slices.Equal(got, c.replies) {
				t.Fatalf("replies %v, want %v", got, c.replies)
			}
			if c.body == "STOP" && len(e.active("c-ana", vocab.SMS)) != 0 {
				t.Fatal("STOP handled by Twilio did not revoke consent in nudge")
			}
		})
	}
}
