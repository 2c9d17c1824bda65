package journal

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/store/sqlstore"
	"github.com/nudgehq/nudge/internal/subject"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

type recorder struct {
	mu          sync.Mutex
	now         []string
	at          map[string]time.Time
	unscheduled []string
}

func (r *recorder) Notify(_ context.Context, n consumers.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = append(r.now, n.Key)
	return nil
}

func (r *recorder) NotifyAt(_ context.Context, n consumers.Notification, t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at == nil {
		r.at = map[string]time.Time{}
	}
	r.at[n.Key] = t
	return nil
}

func (r *recorder) Emit(context.Context, publishers.Event) error { return nil }

func (r *recorder) Unschedule(_ context.Context, s string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unscheduled = append(r.unscheduled, s)
	return nil
}

type fixture struct {
	st  store.Store
	rec *recorder
	job *Job
	now time.Time
}

func newFixture(t *testing.T, now time.Time) *fixture {
	t.Helper()
	f := &fixture{rec: &recorder{}, now: now}
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/nudge.db", sqlstore.WithClock(func() time.Time { return f.now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	f.job, err = New(Config{Store: st, Dispatcher: f.rec, Schedules: f.rec, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) client(t *testing.T, id string) {
	t.Helper()
	ctx := t.Context()
	if _, err := f.st.ApplyClientUpsert(ctx, store.EventRef{ID: "up-" + id, Time: f.now.Add(-time.Hour)},
		store.Client{ID: id, FirstName: "Ada", Timezone: "America/New_York", Phone: "+14155550101"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.AppendConsent(ctx, store.EventRef{}, store.ConsentEntry{ClientID: id, Channel: vocab.SMS, Purpose: vocab.Journal,
		Action: store.ConsentGranted, Source: "test", OccurredAt: f.now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) missed(t *testing.T, client, date string, days int) {
	t.Helper()
	if err := f.job.DayMissed(t.Context(), publishers.JournalDayMissed{ClientID: client, Date: date, MissedDaysInRow: days}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) row(t *testing.T, key string) (store.Delivery, bool) {
	t.Helper()
	d, err := f.st.GetDeliveryByKey(t.Context(), key)
	if err != nil {
		return d, false
	}
	return d, true
}

// Noon in New York on 2026-03-10.
var noon = time.Date(2026, 3, 10, 16, 0, 0, 0, time.UTC)

func TestNudgeOnDaysOneThreeSeven(t *testing.T) {
	f := newFixture(t, noon)
	for days, want := range map[int]bool{1: true, 2: false, 3: true, 4: false, 7: true, 8: false} {
		id := "c" + string(rune('0'+days))
		f.client(t, id)
		f.missed(t, id, "2026-03-10", days)
		_, got := f.row(t, Key(id, "2026-03-10"))
		if got != want {
			t.Errorf("missed day %d: nudge %v, want %v", days, got, want)
		}
	}
	if len(f.rec.now) != 3 {
		t.Errorf("queued %v, want three nudges", f.rec.now)
	}
	// A repeated event (another id, same client and date) gives one nudge.
	f.missed(t, "c1", "2026-03-10", 1)
	f.missed(t, "c3", "2026-03-10", 3)
	rows, _ := f.st.ListDeliveries(t.Context(), store.DeliveryFilter{ClientID: "c1"})
	if len(rows) != 1 {
		t.Errorf("c1 has %d ledger rows after a repeated event, want 1", len(rows))
	}
}

func TestEarlyNudgeWaitsForTheWindowAndEntryWithdrawsIt(t *testing.T) {
	// 06:00 in New York: the nudge waits for 08:00 the same day.
	f := newFixture(t, time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC))
	ctx := t.Context()
	f.client(t, "c1")
	f.missed(t, "c1", "2026-03-10", 1)
	key := Key("c1", "2026-03-10")
	want := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	if got := f.rec.at[key]; !got.Equal(want) {
		t.Fatalf("deferred until %v, want %v (08:00 EDT)", got, want)
	}
	if d, _ := f.row(t, key); d.State != store.DeliveryPending {
		t.Errorf("waiting nudge state %s, want pending", d.State)
	}
	df, err := f.st.DeferralsOf(ctx, []string{key})
	if err != nil || !df[key].NotBefore.Equal(want) {
		t.Errorf("deferral = %+v %v", df, err)
	}

	// The client writes: the nudge is withdrawn and its schedule removed.
	if err := f.job.EntryWritten(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.row(t, key); d.State != store.DeliverySkipped || d.Reason != ReasonEntryWritten {
		t.Errorf("after the entry: %s %q", d.State, d.Reason)
	}
	if len(f.rec.unscheduled) != 1 || f.rec.unscheduled[0] != subject.Deferred(key) {
		t.Errorf("unscheduled %v", f.rec.unscheduled)
	}
	// The same day reported again sends nothing: that day's nudge is done.
	f.missed(t, "c1", "2026-03-10", 1)
	if len(f.rec.now) != 0 {
		t.Errorf("queued %v after the entry", f.rec.now)
	}
}

func TestNudgeForAPassedDateExpires(t *testing.T) {
	// 21:30 in New York: the window of the 10th has closed.
	f := newFixture(t, time.Date(2026, 3, 11, 1, 30, 0, 0, time.UTC))
	f.client(t, "c1")
	f.missed(t, "c1", "2026-03-10", 1)
	if d, _ := f.row(t, Key("c1", "2026-03-10")); d.State != store.DeliverySkipped || d.Reason != string(vocab.SkipExpired) {
		t.Errorf("late nudge: %s %q, want skipped expired", d.State, d.Reason)
	}
	// Without consent: recorded, not sent.
	if _, err := f.st.ApplyClientUpsert(t.Context(), store.EventRef{ID: "up-c2", Time: f.now}, store.Client{ID: "c2", FirstName: "Bo", Timezone: "UTC", Phone: "+14155550102"}); err != nil {
		t.Fatal(err)
	}
	f.missed(t, "c2", "2026-03-11", 1)
	if d, _ := f.row(t, Key("c2", "2026-03-11")); d.Reason != string(vocab.SkipNoConsent) {
		t.Errorf("without consent: %s %q", d.State, d.Reason)
	}
	if len(f.rec.now)+len(f.rec.at) != 0 {
		t.Errorf("queued nudges: %v %v", f.rec.now, f.rec.at)
	}
}
