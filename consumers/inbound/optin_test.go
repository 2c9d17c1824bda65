package inbound

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// optInEnv is an inbound consumer with the HOPE program on.
func optInEnv(t *testing.T) (*env, *[]string) {
	e := newEnv(t)
	joined := &[]string{}
	var err error
	e.c, err = New(Config{
		Store: e.store, Dispatcher: e.disp, Now: func() time.Time { return testNow },
		DoubleOptIn: DoubleOptIn{Keyword: "HOPE", PerWeek: 2, Joined: func(_ context.Context, id string) error {
			*joined = append(*joined, id)
			return nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.client("c-ana", anaPhone, "ana@example.org")
	e.grant("c-ana", vocab.SMS, vocab.Reminders)
	return e, joined
}

func (e *env) textAt(sid, body string, at time.Time) {
	e.t.Helper()
	m := message(sid, anaPhone, body)
	m.ReceivedAt = at
	if err := e.process(m); err != nil {
		e.t.Fatalf("inbound %q: %v", body, err)
	}
}

// HOPE, then YES within 24 h: one request naming the program, then the
// consent with its source and wording, a welcome, and the job told.
func TestDoubleOptInHopeThenYes(t *testing.T) {
	e, joined := optInEnv(t)
	e.textAt("SM1", "hope!", testNow)
	e.textAt("SM1", "hope!", testNow) // Twilio retries
	if got := e.replies(); !slices.Equal(got, []string{"optin_request"}) {
		t.Fatalf("replies after HOPE %v, want one request", got)
	}
	req := e.disp.notifications()[0]
	if req.Vars["PerWeek"] != 2 || req.Purpose != vocab.Replies {
		t.Fatalf("request %+v", req)
	}
	if m := e.inbound("SM1"); m.Kind != kindOptInRequest || m.NeedsStaff {
		t.Fatalf("inbox row %+v: the keyword is handled, not for staff", m)
	}
	if ok, _ := e.store.HasConsent(t.Context(), "c-ana", vocab.SMS, vocab.Encouragement); ok {
		t.Fatal("the keyword alone recorded consent")
	}

	e.textAt("SM2", "Yes", testNow.Add(23*time.Hour))
	e.textAt("SM2", "Yes", testNow.Add(23*time.Hour))
	ledger, err := e.store.ConsentLedger(t.Context(), "c-ana")
	if err != nil {
		t.Fatal(err)
	}
	var grants []store.ConsentEntry
	for _, l := range ledger {
		if l.Purpose == vocab.Encouragement {
			grants = append(grants, l)
		}
	}
	if len(grants) != 1 || grants[0].Source != SourceDoubleOptIn || grants[0].WordingVersion != DefaultOptInWording ||
		grants[0].Channel != vocab.SMS || grants[0].Action != store.ConsentGranted {
		t.Fatalf("encouragement ledger %+v", grants)
	}
	if ok, _ := e.store.HasConsent(t.Context(), "c-ana", vocab.SMS, vocab.Encouragement); !ok {
		t.Fatal("no encouragement consent after YES")
	}
	if got := e.replies(); !slices.Equal(got, []string{"optin_request", "optin_welcome"}) {
		t.Fatalf("replies %v, want the request and one welcome", got)
	}
	if !slices.Equal(*joined, []string{"c-ana"}) {
		t.Fatalf("job told about %v", *joined)
	}
	// A second YES has nothing pending: not another consent.
	e.textAt("SM3", "YES", testNow.Add(23*time.Hour+time.Minute))
	if l, _ := e.store.ConsentLedger(t.Context(), "c-ana"); len(l) != len(ledger) {
		t.Fatalf("a YES with nothing pending changed the ledger: %d entries, want %d", len(l), len(ledger))
	}
}

// A YES more than 24 h after HOPE, or with no HOPE at all, records nothing.
func TestDoubleOptInYesTooLateOrAlone(t *testing.T) {
	e, joined := optInEnv(t)
	e.textAt("SM1", "YES", testNow)
	e.textAt("SM2", "HOPE", testNow.Add(time.Hour))
	e.textAt("SM3", "YES", testNow.Add(25*time.Hour+time.Second))
	if ok, _ := e.store.HasConsent(t.Context(), "c-ana", vocab.SMS, vocab.Encouragement); ok {
		t.Fatal("encouragement consent without a YES in time")
	}
	if len(*joined) != 0 || slices.Contains(e.replies(), "optin_welcome") {
		t.Fatalf("welcomed or joined: %v %v", e.replies(), *joined)
	}
	// An unknown number's HOPE is for staff.
	m := message("SM9", "+14155550199", "HOPE")
	if err := e.process(m); err != nil {
		t.Fatal(err)
	}
	if in := e.inbound("SM9"); !in.NeedsStaff || strings.HasPrefix(in.Kind, "optin") {
		t.Fatalf("stranger's HOPE: %+v", in)
	}
}
