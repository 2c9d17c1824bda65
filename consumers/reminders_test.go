package consumers

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/fakeprovider"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
	"github.com/nudgehq/nudge/internal/subject"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

// recordingBus keeps schedules in a map, one per subject, as JetStream does.
type recordingBus struct {
	mu        sync.Mutex
	schedules map[string]scheduled
	published int
	purged    []string
}

type scheduled struct {
	n   Notification
	at  time.Time
	ttl time.Duration
}

func (b *recordingBus) Schedule(_ context.Context, subject string, n Notification, at time.Time, ttl time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.schedules == nil {
		b.schedules = map[string]scheduled{}
	}
	b.schedules[subject] = scheduled{n, at, ttl}
	b.published++
	return nil
}

func (b *recordingBus) Unschedule(_ context.Context, subject string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.schedules, subject)
	b.purged = append(b.purged, subject)
	return nil
}

// byKey lists the pending schedules by notification key.
func (b *recordingBus) byKey() map[string]scheduled {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]scheduled{}
	for _, s := range b.schedules {
		out[s.n.Key] = s
	}
	return out
}

type schedFixture struct {
	st   store.Store
	bus  *recordingBus
	disp *recordingDispatcher
	rs   *ReminderScheduler
	now  time.Time
	seq  int
}

func newSchedFixture(t *testing.T, now time.Time, cfg ReminderConfig) *schedFixture {
	t.Helper()
	f := &schedFixture{bus: &recordingBus{}, disp: &recordingDispatcher{}, now: now}
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/nudge.db", sqlstore.WithClock(func() time.Time { return f.now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	f.rs, err = NewReminderScheduler(st, f.bus, f.disp, cfg, func() time.Time { return f.now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *schedFixture) ref(t *testing.T, typ string) store.EventRef {
	f.seq++
	return store.EventRef{ID: typ + "-" + string(rune('a'+f.seq)), Type: typ, Time: f.now.Add(time.Duration(f.seq) * time.Millisecond)}
}

func (f *schedFixture) client(t *testing.T, c store.Client) {
	t.Helper()
	if c.FirstName == "" {
		c.FirstName = "Ana"
	}
	if _, err := f.st.ApplyClientUpsert(t.Context(), f.ref(t, "client.upserted"), c); err != nil {
		t.Fatal(err)
	}
}

func (f *schedFixture) book(t *testing.T, id, client string, starts time.Time, kind string) {
	t.Helper()
	res, err := f.st.ApplySessionBooked(t.Context(), f.ref(t, "session.booked"), store.Session{ID: id, ClientID: client, StartsAt: starts, LocationKind: kind})
	if err != nil || !res.Applied {
		t.Fatalf("booking %s: %+v %v", id, res, err)
	}
	if err := f.rs.SessionChanged(t.Context(), publishers.TypeSessionBooked, id); err != nil {
		t.Fatal(err)
	}
}

func (f *schedFixture) reschedule(t *testing.T, id string, starts time.Time) {
	t.Helper()
	res, err := f.st.ApplySessionRescheduled(t.Context(), f.ref(t, "session.rescheduled"), id, starts)
	if err != nil || !res.Applied {
		t.Fatalf("rescheduling %s: %+v %v", id, res, err)
	}
	if err := f.rs.SessionChanged(t.Context(), publishers.TypeSessionRescheduled, id); err != nil {
		t.Fatal(err)
	}
}

func (f *schedFixture) reminders(t *testing.T, session string) map[string]store.Reminder {
	t.Helper()
	rows, err := f.st.ListReminders(t.Context(), store.ReminderFilter{SessionID: session})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.Reminder{}
	for _, r := range rows {
		out[r.Key] = r
	}
	return out
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestReminderSubjectsAndKeys(t *testing.T) {
	for d, want := range map[time.Duration]string{
		48 * time.Hour: "48h", 2 * time.Hour: "2h", 90 * time.Minute: "1h30m", 3 * time.Second: "3s",
		90 * time.Second: "1m30s", time.Hour + 5*time.Second: "1h0m5s", 30 * time.Minute: "30m",
	} {
		if got := vocab.OffsetLabel(d); got != want {
			t.Errorf("vocab.OffsetLabel(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(want); err != nil || back != d {
			t.Errorf("label %q does not parse back to %v", want, d)
		}
	}
	// Session ids from booking systems may hold subject syntax: the
	// subject never carries them.
	seen := map[string]bool{}
	for _, id := range []string{"S1", "S2", "bk.1", "a b", "x.*", "y.>", "ü-1", strings.Repeat("z", 300)} {
		for _, off := range []time.Duration{48 * time.Hour, 2 * time.Hour} {
			subj := subject.Reminder(id, off)
			tokens := strings.Split(subj, ".")
			if len(tokens) != 5 || tokens[0] != "nudge" || tokens[1] != "schedule" || tokens[2] != "reminder" || tokens[4] != vocab.OffsetLabel(off) {
				t.Errorf("subject.Reminder(%q, %v) = %q", id, off, subj)
			}
			if strings.ContainsAny(subj, " *>\t") || len(tokens[3]) != 24 {
				t.Errorf("subject.Reminder(%q) = %q is not a plain subject", id, subj)
			}
			if seen[subj] {
				t.Errorf("subject %q used twice", subj)
			}
			seen[subj] = true
			if subject.Reminder(id, off) != subj {
				t.Errorf("subject.Reminder(%q) is not stable", id)
			}
		}
	}
	if got := ReminderKey("S1", 2, 48*time.Hour, "sms"); got != "reminder:S1:v2:48h:sms" {
		t.Errorf("ReminderKey = %q", got)
	}
	if got := BookedKey("S1", "email"); got != "booked:S1:email" {
		t.Errorf("BookedKey = %q", got)
	}
}

func TestParseReminderOffsets(t *testing.T) {
	got, err := ParseReminderOffsets(" 2h, 48h ,90m")
	if err != nil || got.String() != "48h,2h,1h30m" {
		t.Fatalf("ParseReminderOffsets = %v %v, want longest first", got, err)
	}
	for in, want := range map[string]string{
		"":         "none given",
		"48h,-2h":  "must be positive",
		"0s":       "must be positive",
		"2h,120m":  "given twice",
		"1500ms":   "whole seconds",
		"two days": "Go duration",
	} {
		_, err := ParseReminderOffsets(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseReminderOffsets(%q) = %v, want an error saying %q", in, err, want)
		}
	}
	var o ReminderOffsets
	if err := o.UnmarshalText([]byte("3s")); err != nil || len(o) != 1 || o[0] != 3*time.Second {
		t.Errorf("UnmarshalText: %v %v", o, err)
	}
}

func TestSchedulerBookingSchedulesEachOffset(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, ny)
	f := newSchedFixture(t, now, ReminderConfig{TelehealthURL: "https://meet.example.com/harbor", BookedConfirmation: true})
	f.client(t, store.Client{ID: "c1", Timezone: "America/New_York", Phone: "+14155550101", Email: "ana@example.org", PreferredChannel: "email", Locale: "es"})
	starts := time.Date(2026, 6, 4, 15, 0, 0, 0, ny) // Thursday 3 PM
	f.book(t, "S1", "c1", starts, "telehealth")

	got := f.bus.byKey()
	if len(got) != 2 {
		t.Fatalf("%d schedules, want 2: %v", len(got), got)
	}
	for _, off := range []time.Duration{48 * time.Hour, 2 * time.Hour} {
		key := ReminderKey("S1", 1, off, "email")
		s, ok := got[key]
		if !ok {
			t.Fatalf("no schedule for %s", key)
		}
		if f.bus.schedules[subject.Reminder("S1", off)].n.Key != key {
			t.Errorf("%s is not on its own subject", key)
		}
		wantFire(t, key, s.at, starts.Add(-off), off)
		// The expiry counts from the due time, not the earlier fire time.
		if !s.n.NotAfter.Equal(starts.Add(-off).Add(DefaultReminderStaleness)) || s.ttl != DefaultReminderStaleness+ScheduleTTLGrace {
			t.Errorf("%s: not_after %v ttl %v", key, s.n.NotAfter, s.ttl)
		}
		want := map[string]any{"When": "jueves 4 de junio a las 15:00", "Link": "https://meet.example.com/harbor", "LocationKind": "telehealth"}
		if b1, b2 := mustJSON(t, s.n.Vars), mustJSON(t, want); b1 != b2 {
			t.Errorf("%s vars %s, want %s", key, b1, b2)
		}
		n := s.n
		if n.Purpose != vocab.Reminders || n.Kind != "reminder" || n.SessionID != "S1" || n.SessionVersion != 1 || n.ClientID != "c1" || n.Channel != "email" {
			t.Errorf("%s notification %+v", key, n)
		}
		row := f.reminders(t, "S1")[key]
		if row.State != store.ReminderScheduled || !row.FireAt.Equal(s.at) || row.Offset != off {
			t.Errorf("%s row %+v", key, row)
		}
	}
	// The 2h reminder's expiry never passes the session start.
	if s := got[ReminderKey("S1", 1, 2*time.Hour, "email")]; s.n.NotAfter.After(starts) {
		t.Errorf("not_after %v after the session start", s.n.NotAfter)
	}
	// The booked confirmation goes at once (noon is inside the window).
	if len(f.disp.notified) != 1 || f.disp.notified[0].Key != "booked:S1:email" || f.disp.notified[0].Kind != "booked" {
		t.Errorf("booked confirmation: %+v", f.disp.notified)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSchedulerSkipsPassedOffsetsAndRecordsNoSlot(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, ny)
	f := newSchedFixture(t, now, ReminderConfig{})
	f.client(t, store.Client{ID: "c1", Timezone: "America/New_York", Phone: "+14155550101"})

	// Booked 3 hours ahead: only the 2-hour reminder.
	f.book(t, "S1", "c1", now.Add(3*time.Hour), "in_person")
	got := f.bus.byKey()
	if _, ok := got["reminder:S1:v1:2h:sms"]; !ok || len(got) != 1 {
		t.Fatalf("schedules %v, want only the 2h reminder", got)
	}
	r := f.reminders(t, "S1")["reminder:S1:v1:48h:sms"]
	if r.State != store.ReminderSkipped || r.Reason != quiethours.ReasonOffsetPassed {
		t.Errorf("48h row %+v", r)
	}
	if _, err := f.st.GetDeliveryByKey(t.Context(), "reminder:S1:v1:48h:sms"); err == nil {
		t.Error("an offset that was never due has a ledger row")
	}
	if len(f.disp.notified) != 0 {
		t.Errorf("booked confirmation without BookedConfirmation: %+v", f.disp.notified)
	}

	// Booked at 22:00 for 07:30 tomorrow: the 2h reminder would be at
	// 05:30, 20:59 has passed and the window opens after the session: no
	// slot, and the ledger says why.
	f.now = time.Date(2026, 6, 1, 22, 0, 0, 0, ny)
	f.book(t, "S2", "c1", time.Date(2026, 6, 2, 7, 30, 0, 0, ny), "in_person")
	if _, ok := f.bus.byKey()["reminder:S2:v1:2h:sms"]; ok {
		t.Fatal("a reminder with no allowed slot was scheduled")
	}
	d, err := f.st.GetDeliveryByKey(t.Context(), "reminder:S2:v1:2h:sms")
	if err != nil || d.State != store.DeliverySkipped || d.Reason != quiethours.ReasonNoSlot || d.SessionID != "S2" {
		t.Errorf("ledger for the no-slot reminder: %+v %v", d, err)
	}
	if r := f.reminders(t, "S2")["reminder:S2:v1:2h:sms"]; r.State != store.ReminderSkipped || r.Reason != quiethours.ReasonNoSlot {
		t.Errorf("no-slot row %+v", r)
	}
}

func TestSchedulerRescheduleReplacesAndCancelPurges(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, ny)
	f := newSchedFixture(t, now, ReminderConfig{})
	f.client(t, store.Client{ID: "c1", Timezone: "America/New_York", Phone: "+14155550101"})
	starts := time.Date(2026, 6, 4, 15, 0, 0, 0, ny)
	f.book(t, "S1", "c1", starts, "in_person")

	// Moved twice: the subjects now hold version 3's reminders only.
	f.reschedule(t, "S1", starts.Add(24*time.Hour))
	f.reschedule(t, "S1", starts.Add(48*time.Hour))
	got := f.bus.byKey()
	if len(got) != 2 {
		t.Fatalf("%d schedules after two reschedules: %v", len(got), got)
	}
	for _, off := range []time.Duration{48 * time.Hour, 2 * time.Hour} {
		s, ok := got[ReminderKey("S1", 3, off, "sms")]
		if !ok {
			t.Fatalf("%v: no version 3 schedule", off)
		}
		wantFire(t, s.n.Key, s.at, starts.Add(48*time.Hour-off), off)
	}
	rows := f.reminders(t, "S1")
	for _, v := range []int{1, 2} {
		for _, off := range []time.Duration{48 * time.Hour, 2 * time.Hour} {
			if r := rows[ReminderKey("S1", v, off, "sms")]; r.State != store.ReminderCancelled || r.Reason != ReasonReminderMoved {
				t.Errorf("v%d %v: %+v, want cancelled: moved", v, off, r)
			}
		}
	}

	// Moved to 3 hours from now: the 48h offset has passed, so its subject
	// (still holding v3's schedule) is purged.
	f.reschedule(t, "S1", now.Add(3*time.Hour))
	got = f.bus.byKey()
	if _, ok := got["reminder:S1:v4:2h:sms"]; !ok || len(got) != 1 {
		t.Fatalf("after moving close: %v", got)
	}
	if r := f.reminders(t, "S1")["reminder:S1:v4:48h:sms"]; r.State != store.ReminderSkipped || r.Reason != quiethours.ReasonOffsetPassed {
		t.Errorf("v4 48h: %+v", r)
	}

	// Cancelled: nothing left on the bus, every row says so.
	if _, err := f.st.ApplySessionCancelled(t.Context(), f.ref(t, "session.cancelled"), "S1", "client request"); err != nil {
		t.Fatal(err)
	}
	if err := f.rs.SessionChanged(t.Context(), publishers.TypeSessionCancelled, "S1"); err != nil {
		t.Fatal(err)
	}
	if got := f.bus.byKey(); len(got) != 0 {
		t.Fatalf("schedules left after cancel: %v", got)
	}
	if r := f.reminders(t, "S1")["reminder:S1:v4:2h:sms"]; r.State != store.ReminderCancelled || r.Reason != ReasonReminderCancelled {
		t.Errorf("after cancel: %+v", r)
	}
}

func TestSchedulerClientChanges(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, ny)
	f := newSchedFixture(t, now, ReminderConfig{})
	starts := time.Date(2026, 6, 4, 15, 0, 0, 0, ny)
	// The booking arrives before the client's profile: nothing yet.
	f.book(t, "S1", "c1", starts, "in_person")
	if len(f.bus.byKey()) != 0 {
		t.Fatal("scheduled without a client")
	}
	f.client(t, store.Client{ID: "c1", Timezone: "America/New_York", Phone: "+14155550101"})
	if err := f.rs.ClientChanged(t.Context(), "c1"); err != nil {
		t.Fatal(err)
	}
	if got := f.bus.byKey(); len(got) != 2 {
		t.Fatalf("after the profile arrived: %v", got)
	}
	// The client moves to email and to London: same subjects, new keys,
	// the time read in the new zone.
	f.client(t, store.Client{ID: "c1", Timezone: "Europe/London", Email: "ana@example.org", PreferredChannel: "email"})
	if err := f.rs.ClientChanged(t.Context(), "c1"); err != nil {
		t.Fatal(err)
	}
	got := f.bus.byKey()
	s, ok := got["reminder:S1:v1:2h:email"]
	if len(got) != 2 || !ok || s.n.Vars["When"] != "Thu, Jun 4 at 8:00 PM" {
		t.Fatalf("after the client changed: %+v", got)
	}
	if r := f.reminders(t, "S1")["reminder:S1:v1:2h:sms"]; r.State != store.ReminderCancelled || r.Reason != ReasonReminderChannelChanged {
		t.Errorf("old channel row %+v", r)
	}

	// A client with no address: nothing can go, the reminders say why, and
	// no ledger row blocks them once a phone number arrives.
	f.client(t, store.Client{ID: "c2", Timezone: "America/New_York"})
	f.book(t, "S2", "c2", starts, "in_person")
	if r := f.reminders(t, "S2")["reminder:S2:v1:2h:sms"]; r.State != store.ReminderSkipped || r.Reason != string(vocab.SkipNoAddress) {
		t.Errorf("no-address row %+v", r)
	}
	f.client(t, store.Client{ID: "c2", Timezone: "America/New_York", Phone: "+14155550102"})
	if err := f.rs.ClientChanged(t.Context(), "c2"); err != nil {
		t.Fatal(err)
	}
	if r := f.reminders(t, "S2")["reminder:S2:v1:2h:sms"]; r.State != store.ReminderScheduled {
		t.Errorf("after the phone arrived: %+v", r)
	}
	if _, err := f.st.GetDeliveryByKey(t.Context(), "reminder:S2:v1:2h:sms"); err == nil {
		t.Error("a ledger row was written for a reminder skipped for lack of an address")
	}
}

// TestSchedulerConfirmsBookingThatCameBeforeTheClient: a booking applied
// before its client's profile (two ingest workers, a redelivery) gets its
// booked confirmation when the profile arrives, once; later profile changes
// send none.
func TestSchedulerConfirmsBookingThatCameBeforeTheClient(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, ny)
	f := newSchedFixture(t, now, ReminderConfig{BookedConfirmation: true})
	f.book(t, "S1", "c1", time.Date(2026, 6, 4, 15, 0, 0, 0, ny), "in_person")
	if len(f.disp.notified) != 0 {
		t.Fatalf("confirmation without a client: %+v", f.disp.notified)
	}
	f.client(t, store.Client{ID: "c1", Timezone: "America/New_York", Phone: "+14155550101"})
	if err := f.rs.ClientChanged(t.Context(), "c1"); err != nil {
		t.Fatal(err)
	}
	if len(f.disp.notified) != 1 || f.disp.notified[0].Key != BookedKey("S1", vocab.SMS) {
		t.Fatalf("after the profile arrived, notified %+v, want the booked confirmation", f.disp.notified)
	}
	f.client(t, store.Client{ID: "c1", Timezone: "America/New_York", Phone: "+14155550109"})
	if err := f.rs.ClientChanged(t.Context(), "c1"); err != nil {
		t.Fatal(err)
	}
	if len(f.disp.notified) != 1 {
		t.Errorf("a profile change sent another confirmation: %+v", f.disp.notified)
	}
}

// TestSchedulerPlacementAcrossZones places reminders in the client's own
// window across daylight-saving changes. Sessions start at a morning hour
// so the 2-hour reminder falls in quiet hours and moves to 20:59 the
// evening before, on that evening's wall clock.
func TestSchedulerPlacementAcrossZones(t *testing.T) {
	cases := []struct {
		name     string
		zone     string
		starts   time.Time
		want48   time.Time // wall clock in zone
		want2    time.Time
		wantWhen string
	}{{
		name: "New York spring forward", zone: "America/New_York",
		// DST starts Sun 8 Mar 02:00. 48 real hours before Mon 09:00 EDT is
		// Sat 08:00 EST, inside the window.
		starts: wall(t, "America/New_York", 2026, 3, 9, 9, 0),
		want48: wall(t, "America/New_York", 2026, 3, 7, 8, 0),
		want2:  wall(t, "America/New_York", 2026, 3, 8, 20, 59), wantWhen: "Mon, Mar 9 at 9:00 AM",
	}, {
		name: "New York fall back", zone: "America/New_York",
		starts: wall(t, "America/New_York", 2026, 11, 2, 8, 30),
		want48: wall(t, "America/New_York", 2026, 10, 31, 9, 30),
		want2:  wall(t, "America/New_York", 2026, 11, 1, 20, 59), wantWhen: "Mon, Nov 2 at 8:30 AM",
	}, {
		name: "London spring forward", zone: "Europe/London",
		starts: wall(t, "Europe/London", 2026, 3, 30, 9, 0),
		want48: wall(t, "Europe/London", 2026, 3, 28, 8, 0),
		want2:  wall(t, "Europe/London", 2026, 3, 29, 20, 59), wantWhen: "Mon, Mar 30 at 9:00 AM",
	}, {
		name: "London fall back", zone: "Europe/London",
		starts: wall(t, "Europe/London", 2026, 10, 26, 8, 30),
		want48: wall(t, "Europe/London", 2026, 10, 24, 9, 30),
		want2:  wall(t, "Europe/London", 2026, 10, 25, 20, 59), wantWhen: "Mon, Oct 26 at 8:30 AM",
	}, {
		name: "Lord Howe half-hour change", zone: "Australia/Lord_Howe",
		// Summer time (+11) ends Sun 5 Apr 02:00 → 01:30 (+10:30).
		starts: wall(t, "Australia/Lord_Howe", 2026, 4, 6, 9, 0),
		want48: wall(t, "Australia/Lord_Howe", 2026, 4, 4, 9, 30),
		want2:  wall(t, "Australia/Lord_Howe", 2026, 4, 5, 20, 59), wantWhen: "Mon, Apr 6 at 9:00 AM",
	}, {
		name: "client in London, practice in Los Angeles", zone: "Europe/London",
		// 17:00 in LA is 01:00 in London: in the practice's zone neither
		// reminder is in quiet hours, in the client's both are.
		starts: wall(t, "America/Los_Angeles", 2026, 6, 10, 17, 0),
		want48: wall(t, "Europe/London", 2026, 6, 8, 20, 59),
		want2:  wall(t, "Europe/London", 2026, 6, 10, 20, 59), wantWhen: "Thu, Jun 11 at 1:00 AM",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.starts.Add(-10 * 24 * time.Hour)
			f := newSchedFixture(t, now, ReminderConfig{})
			f.client(t, store.Client{ID: "c1", Timezone: c.zone, Phone: "+14155550101"})
			f.book(t, "S1", "c1", c.starts, "in_person")
			got := f.bus.byKey()
			for key, want := range map[string]time.Time{"reminder:S1:v1:48h:sms": c.want48, "reminder:S1:v1:2h:sms": c.want2} {
				s, ok := got[key]
				if !ok {
					t.Fatalf("no schedule %s", key)
				}
				off := map[string]time.Duration{"reminder:S1:v1:48h:sms": 48 * time.Hour, "reminder:S1:v1:2h:sms": 2 * time.Hour}[key]
				wantFire(t, key, s.at.In(want.Location()), want, off)
				if !quiethours.Default.Contains(s.at, mustLoc(t, c.zone)) {
					t.Errorf("%s at %v is in quiet hours", key, s.at.In(mustLoc(t, c.zone)))
				}
				if s.n.Vars["When"] != c.wantWhen {
					t.Errorf("When = %q, want %q", s.n.Vars["When"], c.wantWhen)
				}
			}
			r := f.reminders(t, "S1")["reminder:S1:v1:2h:sms"]
			if r.Reason != quiethours.ReasonMovedEarlier {
				t.Errorf("2h placement reason %q", r.Reason)
			}
		})
	}
}

func wall(t *testing.T, zone string, y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, mustLoc(t, zone))
}

// fakeMsg is a JetStream message as the ingest handler sees it.
type fakeMsg struct {
	jetstream.Msg
	data      []byte
	delivered uint64
}

func (m fakeMsg) Data() []byte    { return m.data }
func (m fakeMsg) Subject() string { return "nudge.events.test" }
func (m fakeMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{NumDelivered: m.delivered}, nil
}

func TestIngestHookRunsOnlyForAppliedChanges(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, ny)
	f := newSchedFixture(t, now, ReminderConfig{})
	in := &Ingest{Store: f.st, Sessions: f.rs}
	msg := func(t *testing.T, id, typ string, at time.Time, data any, delivered uint64) fakeMsg {
		t.Helper()
		ev, err := publishers.NewEvent(typ, "/test", data)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(ev.WithID(id).WithTime(at))
		if err != nil {
			t.Fatal(err)
		}
		return fakeMsg{data: b, delivered: delivered}
	}
	handle := func(m fakeMsg) {
		t.Helper()
		if err := in.Handle(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	starts := time.Date(2026, 6, 4, 15, 0, 0, 0, ny)
	handle(msg(t, "c1", publishers.TypeClientUpserted, now, publishers.ClientUpserted{ClientID: "c1", FirstName: "Ana", Timezone: "America/New_York", Phone: "+14155550101"}, 1))
	booked := msg(t, "b1", publishers.TypeSessionBooked, now, publishers.SessionBooked{SessionID: "S1", ClientID: "c1", StartsAt: starts}, 1)
	handle(booked)
	if f.bus.published != 2 {
		t.Fatalf("booking published %d schedules, want 2", f.bus.published)
	}
	// A producer repeating the event: the store says duplicate, nothing new.
	handle(booked)
	if f.bus.published != 2 {
		t.Fatalf("a repeated event published %d schedules, want 2", f.bus.published)
	}
	// A stale reschedule (older than the booking): not applied, nothing.
	handle(msg(t, "r0", publishers.TypeSessionRescheduled, now.Add(-time.Hour), publishers.SessionRescheduled{SessionID: "S1", StartsAt: starts.Add(time.Hour)}, 1))
	if f.bus.published != 2 {
		t.Fatalf("a stale reschedule published schedules")
	}
	// A redelivery of an applied event (the previous attempt may have died
	// before scheduling) schedules again from the stored state: the same
	// schedules on the same subjects, nothing new.
	before := f.bus.byKey()
	booked.delivered = 2
	handle(booked)
	after := f.bus.byKey()
	if len(after) != 2 || mustJSON(t, keysAt(before)) != mustJSON(t, keysAt(after)) {
		t.Fatalf("redelivery changed the schedules:\n%v\n%v", before, after)
	}
}

func keysAt(m map[string]scheduled) map[string]time.Time {
	out := map[string]time.Time{}
	for k, s := range m {
		out[k] = s.at
	}
	return out
}

// TestReminderContentAndFreshness renders what the scheduler produced and
// checks it at fire time with the deliverer's checks in their app order.
func TestReminderContentAndFreshness(t *testing.T) {
	df := newDeliverFixture(t) // now: Tue 10 Mar 2026, noon in New York
	df.dl.Checks = DefaultChecks(df.st, quiethours.Default, quiethours.DefaultCadence())
	ctx := t.Context()
	df.consent(t, "c1", "sms", vocab.Reminders, store.ConsentGranted)
	rs, err := NewReminderScheduler(df.st, &recordingBus{}, nil, ReminderConfig{TelehealthURL: "https://meet.example.com/harbor"}, func() time.Time { return df.now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	bus := rs.bus.(*recordingBus)
	ny := mustLoc(t, "America/New_York")
	book := func(id string, starts time.Time, kind string) {
		t.Helper()
		if _, err := df.st.ApplySessionBooked(ctx, store.EventRef{ID: "b-" + id, Type: "session.booked", Time: df.now}, store.Session{ID: id, ClientID: "c1", StartsAt: starts, LocationKind: kind}); err != nil {
			t.Fatal(err)
		}
		if err := rs.SessionChanged(ctx, publishers.TypeSessionBooked, id); err != nil {
			t.Fatal(err)
		}
	}
	starts := time.Date(2026, 3, 12, 15, 30, 0, 0, ny) // Thursday 3:30 PM
	for _, id := range []string{"S1", "S2", "S3", "S4", "S5", "S6"} {
		kind := "in_person"
		if id == "S2" {
			kind = "telehealth"
		}
		book(id, starts, kind)
	}
	due := func(id string) Notification {
		t.Helper()
		s, ok := bus.byKey()[ReminderKey(id, 1, 2*time.Hour, "sms")]
		if !ok {
			t.Fatalf("no 2h reminder for %s", id)
		}
		return s.n
	}
	fire := func(n Notification, at time.Time) store.Delivery {
		t.Helper()
		df.now = at
		if err := df.dl.Deliver(ctx, n); err != nil {
			t.Fatal(err)
		}
		return df.ledger(t, n.Key)
	}
	fireAt := starts.Add(-2 * time.Hour)

	// Sent: first name, day and time in the client's zone, the practice,
	// in person or the link, and nothing else.
	if d := fire(due("S1"), fireAt); d.State != store.DeliverySent {
		t.Fatalf("S1: %s %s", d.State, d.Reason)
	}
	if d := fire(due("S2"), fireAt); d.State != store.DeliverySent {
		t.Fatalf("S2: %s %s", d.State, d.Reason)
	}
	msgs := outbound(df.twilio)
	want := []string{
		"Hi Ada, reminder from Harbor Practice: your appointment is Thu, Mar 12 at 3:30 PM, in person. Reply C to confirm or R to reschedule.",
		"Hi Ada, reminder from Harbor Practice: your appointment is Thu, Mar 12 at 3:30 PM, online. Reply C to confirm or R to reschedule.\nJoin: https://meet.example.com/harbor",
	}
	if len(msgs) != 2 || msgs[0].Body != want[0] || msgs[1].Body != want[1] {
		t.Fatalf("messages:\n%q\nwant\n%q", bodies(msgs), want)
	}

	// Cancelled, moved, already started, too late: skipped with the reason.
	if _, err := df.st.ApplySessionCancelled(ctx, store.EventRef{ID: "c-S3", Type: "session.cancelled", Time: df.now}, "S3", ""); err != nil {
		t.Fatal(err)
	}
	n4 := due("S4")
	if _, err := df.st.ApplySessionRescheduled(ctx, store.EventRef{ID: "r-S4", Type: "session.rescheduled", Time: df.now}, "S4", starts.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for id, c := range map[string]struct {
		n      Notification
		at     time.Time
		reason string
	}{
		"S3": {due("S3"), fireAt, string(vocab.SkipCancelled)},
		"S4": {n4, fireAt, string(vocab.SkipMoved)},
		"S5": {due("S5"), starts.Add(time.Minute), string(vocab.SkipStarted)},
		"S6": {due("S6"), fireAt.Add(DefaultReminderStaleness + time.Second), string(vocab.SkipExpired)},
	} {
		if d := fire(c.n, c.at); d.State != store.DeliverySkipped || d.Reason != c.reason {
			t.Errorf("%s: %s %q, want skipped: %s", id, d.State, d.Reason, c.reason)
		}
	}
	if got := len(outbound(df.twilio)); got != 2 {
		t.Errorf("%d messages sent, want 2", got)
	}
}

func bodies(msgs []fakeprovider.CapturedMessage) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Body)
	}
	return out
}

// wantFire checks a scheduled reminder's fire time against where the
// placement put it: by design (fireplan.go) an unpaced reminder fires a
// key-derived few seconds to its spread (2 minutes with the default
// offsets) before that time, never after, so reminders due together are
// not all sent in the same second. At the window's opening (placed's
// zone, default window) it cannot go earlier and fires on time.
func wantFire(t *testing.T, key string, at, placed time.Time, offset time.Duration) {
	t.Helper()
	spread := ReminderConfig{}.spreadFor(offset)
	if at.Equal(placed) && !quiethours.Default.Contains(placed.Add(-fireMargin), placed.Location()) {
		return
	}
	if at.After(placed.Add(-fireMargin)) || at.Before(placed.Add(-spread)) {
		t.Errorf("%s at %v, want between %v and %v before %v", key, at, spread, fireMargin, placed)
	}
}
