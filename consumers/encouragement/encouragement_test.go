package encouragement

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
	"github.com/nudgehq/nudge/templates"
)

// fakeBus records the schedules a Job keeps.
type fakeBus struct {
	mu     sync.Mutex
	placed map[string]placed
}

type placed struct{ cron, zone, target string }

func (b *fakeBus) ScheduleCron(_ context.Context, subject, target string, _ []byte, cron, zone string, _ time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.placed == nil {
		b.placed = map[string]placed{}
	}
	b.placed[subject] = placed{cron, zone, target}
	return nil
}

func (b *fakeBus) Unschedule(_ context.Context, subject string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.placed, subject)
	return nil
}

func (b *fakeBus) get(subject string) (placed, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.placed[subject]
	return p, ok
}

type fakeDispatcher struct {
	mu       sync.Mutex
	notified []consumers.Notification
}

func (d *fakeDispatcher) Notify(_ context.Context, n consumers.Notification) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.notified = append(d.notified, n)
	return nil
}
func (d *fakeDispatcher) NotifyAt(context.Context, consumers.Notification, time.Time) error {
	return nil
}
func (d *fakeDispatcher) Emit(context.Context, publishers.Event) error { return nil }

type fixture struct {
	st   store.Store
	bus  *fakeBus
	disp *fakeDispatcher
	job  *Job
	now  time.Time
	seq  int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{bus: &fakeBus{}, disp: &fakeDispatcher{}, now: time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/nudge.db", sqlstore.WithClock(func() time.Time { return f.now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	f.job, err = New(Config{Store: st, Bus: f.bus, Dispatcher: f.disp, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// apply applies ev the way the ingest consumer does, jobs included.
func (f *fixture) apply(t *testing.T, typ string, data any) {
	t.Helper()
	f.seq++
	f.now = f.now.Add(time.Second)
	ev, err := publishers.NewEvent(typ, "/test", data)
	if err != nil {
		t.Fatal(err)
	}
	ev.Time = f.now
	in := &consumers.Ingest{Store: f.st}
	res, err := in.Apply(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.job.EventApplied(t.Context(), ev, res); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) client(t *testing.T, id, zone string) {
	f.apply(t, publishers.TypeClientUpserted, publishers.ClientUpserted{ClientID: id, FirstName: "Ada", Timezone: zone, Phone: "+14155550101", Email: id + "@example.org"})
}

func (f *fixture) consent(t *testing.T, id string, ch vocab.Channel, typ string) {
	f.apply(t, typ, publishers.ConsentChanged{ClientID: id, Channel: ch, Purpose: publishers.PurposeEncouragement, Source: "test"})
}

func TestConsentStartsTheDefaultScheduleInTheClientsZone(t *testing.T) {
	f := newFixture(t)
	f.client(t, "c1", "America/New_York")
	subject := SubjectSchedule("c1")
	if _, ok := f.bus.get(subject); ok {
		t.Fatal("a schedule was placed without consent")
	}
	f.consent(t, "c1", "sms", publishers.TypeConsentGranted)
	p, ok := f.bus.get(subject)
	if !ok || p.cron != "0 0 10 * * mon,thu" || p.zone != "America/New_York" || p.target != SubjectFired {
		t.Fatalf("after consent: %+v %v, want the default schedule in New York", p, ok)
	}
	sch, zone, next, err := f.job.Next(t.Context(), "c1")
	if err != nil || zone != "America/New_York" || sch.Source != store.ScheduleSourceDefault {
		t.Fatalf("Next = %+v %q %v", sch, zone, err)
	}
	// 2026-03-10 is a Tuesday: the next fire is Thursday 10:00 in New York.
	if want := time.Date(2026, 3, 12, 14, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("next fire %v, want %v", next.UTC(), want)
	}

	// A new schedule replaces it; a move re-places it in the new zone.
	f.apply(t, publishers.TypeEncouragementScheduleSet, publishers.EncouragementScheduleSet{ClientID: "c1", Days: []string{"sat"}, At: "09:30"})
	if p, _ := f.bus.get(subject); p.cron != "0 30 9 * * sat" {
		t.Errorf("after schedule_set: %+v", p)
	}
	f.client(t, "c1", "Europe/London")
	if p, _ := f.bus.get(subject); p.zone != "Europe/London" || p.cron != "0 30 9 * * sat" {
		t.Errorf("after the client moved: %+v", p)
	}
	// A second consent keeps the client's own schedule.
	f.consent(t, "c1", "email", publishers.TypeConsentGranted)
	if p, _ := f.bus.get(subject); p.cron != "0 30 9 * * sat" {
		t.Errorf("after a second consent: %+v", p)
	}
	// Revoking one channel keeps the schedule; revoking both purges it.
	f.consent(t, "c1", "sms", publishers.TypeConsentRevoked)
	if _, ok := f.bus.get(subject); !ok {
		t.Error("purged while email consent remains")
	}
	f.consent(t, "c1", "email", publishers.TypeConsentRevoked)
	if _, ok := f.bus.get(subject); ok {
		t.Error("schedule still placed after every consent was revoked")
	}
	if _, zone, _, _ := f.job.Next(t.Context(), "c1"); zone != "" {
		t.Errorf("Next reports a live schedule without consent")
	}
}

func TestFireSendsOncePerLocalDay(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.client(t, "c1", "America/New_York")
	f.consent(t, "c1", "sms", publishers.TypeConsentGranted)

	// 02:30 UTC on the 11th is still the 10th in New York (EDT).
	first := time.Date(2026, 3, 11, 2, 30, 0, 0, time.UTC)
	if err := f.job.Fire(ctx, "c1", first, false); err != nil {
		t.Fatal(err)
	}
	if len(f.disp.notified) != 1 || f.disp.notified[0].Key != "encouragement:c1:2026-03-10" || f.disp.notified[0].Channel != "sms" {
		t.Fatalf("first fire queued %+v", f.disp.notified)
	}
	// A redelivery of the same fire queues again (JetStream and the ledger
	// dedupe) and records nothing new.
	if err := f.job.Fire(ctx, "c1", first, true); err != nil {
		t.Fatal(err)
	}
	// A later fire the same local day is a cadence skip in the ledger.
	if err := f.job.Fire(ctx, "c1", first.Add(time.Hour), false); err != nil {
		t.Fatal(err)
	}
	rows, err := f.st.ListDeliveries(ctx, store.DeliveryFilter{ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	var skips []string
	for _, d := range rows {
		if d.State == store.DeliverySkipped {
			skips = append(skips, d.IdempotencyKey+"="+d.Reason)
		}
	}
	if !slices.Equal(skips, []string{"encouragement:c1:2026-03-10:again:233000=cadence_daily_cap"}) {
		t.Errorf("skips = %v", skips)
	}
	// The next local day is a new notification.
	if err := f.job.Fire(ctx, "c1", first.Add(24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	if got := f.disp.notified[len(f.disp.notified)-1].Key; got != "encouragement:c1:2026-03-11" {
		t.Errorf("next day's key %s", got)
	}
}

func TestFireWithoutConsentPurgesTheSchedule(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.client(t, "c1", "Europe/London")
	f.consent(t, "c1", "sms", publishers.TypeConsentGranted)
	// STOP revokes in the inbound path, not through ingest: the next fire
	// finds no consent, purges the schedule and records why.
	if _, err := f.st.AppendConsent(ctx, store.EventRef{}, store.ConsentEntry{ClientID: "c1", Channel: "sms", Purpose: "encouragement",
		Action: store.ConsentRevoked, Source: "sms:STOP", OccurredAt: f.now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	if err := f.job.Fire(ctx, "c1", f.now, false); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.bus.get(SubjectSchedule("c1")); ok {
		t.Error("schedule survived a fire without consent")
	}
	d, err := f.st.GetDeliveryByKey(ctx, "encouragement:c1:2026-03-10")
	if err != nil || d.State != store.DeliverySkipped || d.Reason != string(vocab.SkipNoConsent) {
		t.Errorf("ledger = %+v %v, want skipped no_consent", d, err)
	}
	if len(f.disp.notified) != 0 {
		t.Errorf("queued %d notifications without consent", len(f.disp.notified))
	}
}

func TestRotationNeverRepeatsUntilTheLibraryIsUsed(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tmpl, err := templates.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &Rotation{Store: f.st, Templates: tmpl}
	library := tmpl.ThemedLines(templates.KindEncouragement, "en")
	if len(library) < 7 {
		t.Fatalf("library has %d lines", len(library))
	}
	send := func(day int, state store.DeliveryState) string {
		t.Helper()
		key := Key("c1", time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
		f.now = f.now.Add(time.Minute)
		p, err := r.Pick(ctx, "c1", key, "en")
		if err != nil {
			t.Fatal(err)
		}
		again, err := r.Pick(ctx, "c1", key, "en")
		if err != nil || again.Line != p.Line {
			t.Fatalf("the same key picked %q then %q", p.Line, again.Line)
		}
		if _, _, err := f.st.CreateDelivery(ctx, store.Delivery{IdempotencyKey: key, ClientID: "c1", Channel: "sms",
			Purpose: "encouragement", Template: "encouragement", To: "+14155550101", State: state}); err != nil {
			t.Fatal(err)
		}
		return p.Line
	}
	var sent []string
	day := 1
	for range 3 * len(library) {
		if day%5 == 0 {
			send(day, store.DeliverySkipped) // skipped: its line is not used up
			day++
		}
		sent = append(sent, send(day, store.DeliverySent))
		day++
	}
	for i := 1; i < len(sent); i++ {
		if sent[i] == sent[i-1] {
			t.Fatalf("texts %d and %d share a line: %q", i-1, i, sent[i])
		}
	}
	for round := 0; round < 3; round++ {
		got := slices.Clone(sent[round*len(library) : (round+1)*len(library)])
		slices.Sort(got)
		if len(slices.Compact(got)) != len(library) {
			t.Errorf("round %d repeated a line before using the whole library: %v", round, sent[round*len(library):(round+1)*len(library)])
		}
	}

	// Themes narrow the rotation, in the client's locale.
	f.apply(t, publishers.TypeEncouragementScheduleSet, publishers.EncouragementScheduleSet{ClientID: "c2", Cron: "0 0 9 * * *", Themes: []string{"patience"}})
	es := map[string]bool{}
	for _, l := range tmpl.ThemedLines(templates.KindEncouragement, "es") {
		if l.Theme == "patience" {
			es[l.Text] = true
		}
	}
	for d := 1; d <= 4; d++ {
		p, err := r.Pick(ctx, "c2", Key("c2", time.Date(2026, 2, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)), "es-MX")
		if err != nil {
			t.Fatal(err)
		}
		if p.Theme != "patience" || !es[p.Line] {
			t.Errorf("narrowed pick %+v is not a Spanish patience line", p)
		}
	}
}
