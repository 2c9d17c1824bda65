package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/subject"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

// ReminderConfig is one bench-reminders run: pending reminders scheduled
// straight on JetStream (scheduling rate, server memory), then a batch of
// booked sessions whose reminders fall due together, scheduled by the real
// ReminderScheduler and followed through the real deliverer, store and
// checks to the fake Twilio (lateness after the due time).
type ReminderConfig struct {
	// Store, DatabaseURL, ProviderLatency, SyncAlways and Logger are as in
	// Config. SMSRate paces SMS through the shared pacer and is the rate
	// the scheduler plans fire times with; 0 is no pacing.
	Store           string
	DatabaseURL     string
	ProviderLatency time.Duration
	SMSRate         float64
	SyncAlways      bool
	// Workers is the deliver runner's Concurrency.
	Workers int
	// Schedulers schedule concurrently (pending schedules, bookings).
	Schedulers int
	// Pending reminders are scheduled a day ahead straight on the bus.
	Pending int
	// Fire sessions are booked whose Offset reminder falls due between
	// the batch's due time and FireSpread later (whole seconds; 0: all in
	// the same second).
	Fire       int
	FireSpread time.Duration
	Offset     time.Duration
	// NoPlan leaves the scheduler unaware of SMSRate (the pacer still
	// paces), for comparison.
	NoPlan bool
	// Spread is the scheduler's ReminderConfig.Spread (0: its default;
	// negative: every reminder fires at its due time, for comparison).
	Spread time.Duration

	Logger   *slog.Logger
	Progress func(format string, args ...any)
}

// Defaults fills zero fields.
func (c *ReminderConfig) Defaults() {
	if c.Store == "" {
		c.Store = "sqlite"
	}
	if c.Workers == 0 {
		c.Workers = 32
	}
	if c.Schedulers == 0 {
		c.Schedulers = 32
	}
	if c.Offset == 0 {
		c.Offset = 2 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *ReminderConfig) validate() error {
	var errs []error
	if c.Store != "sqlite" && c.Store != "postgres" {
		errs = append(errs, fmt.Errorf("Store %q is not sqlite or postgres", c.Store))
	}
	if c.Store == "postgres" && c.DatabaseURL == "" {
		errs = append(errs, errors.New("DatabaseURL is required with Store postgres"))
	}
	if c.Pending < 0 || c.Fire < 1 || c.Workers < 1 || c.Schedulers < 1 {
		errs = append(errs, errors.New("Pending must be ≥ 0, Fire, Workers and Schedulers ≥ 1"))
	}
	if c.Fire > 9_000_000 {
		errs = append(errs, fmt.Errorf("Fire must be at most 9000000, got %d", c.Fire))
	}
	if c.FireSpread < 0 || c.Offset < time.Minute || c.ProviderLatency < 0 || c.SMSRate < 0 {
		errs = append(errs, errors.New("FireSpread, ProviderLatency and SMSRate must not be negative, Offset at least 1m"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bench-reminders: %w", err)
	}
	return nil
}

// ReminderResult is what a bench-reminders run measured.
type ReminderResult struct {
	Store           string        `json:"store"`
	ProviderLatency time.Duration `json:"provider_latency_ns"`
	SMSRate         float64       `json:"sms_rate,omitempty"`
	Spread          time.Duration `json:"spread_ns"`
	PlannedForRate  bool          `json:"planned_for_rate"`
	SyncAlways      bool          `json:"sync_always"`
	Workers         int           `json:"workers"`
	Schedulers      int           `json:"schedulers"`
	GoVersion       string        `json:"go_version"`
	CPUs            int           `json:"cpus"`
	// LoadBefore and LoadAfter are /proc/loadavg's 1-minute figure: how
	// busy the machine was around the run.
	LoadBefore float64 `json:"loadavg1_before"`
	LoadAfter  float64 `json:"loadavg1_after"`

	// RawBefore and RawAfter are plain publishes (no schedule) of the
	// same messages by as many publishers, before the pending phase and
	// after the firing: the same server's ceiling for the scheduling rate.
	RawBefore float64 `json:"raw_publish_rate_before"`
	RawAfter  float64 `json:"raw_publish_rate_after"`

	Pending PendingPhase `json:"pending"`
	Fire    FirePhase    `json:"fire"`
}

// RawRate is the mean of the two raw publish rates.
func (r ReminderResult) RawRate() float64 { return (r.RawBefore + r.RawAfter) / 2 }

// PendingPhase is the scheduling of far-future reminders straight on the
// bus: rate and what the pending schedules cost the server.
type PendingPhase struct {
	Reminders int           `json:"reminders"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	Rate      float64       `json:"rate"`
	// HeapBefore/After: the process's Go heap in use (the server is
	// embedded); RSSBefore/After: the server's varz mem, the whole
	// process's resident memory.
	HeapBefore int64 `json:"heap_before_bytes"`
	HeapAfter  int64 `json:"heap_after_bytes"`
	RSSBefore  int64 `json:"rss_before_bytes"`
	RSSAfter   int64 `json:"rss_after_bytes"`
}

// FirePhase is the batch due together, measured at the fake provider.
type FirePhase struct {
	Reminders int `json:"reminders"`
	// DueSpread is the width of the due times (FireSpread).
	DueSpread time.Duration `json:"due_spread_ns"`
	// ScheduleRate is bookings applied and scheduled by the real
	// ReminderScheduler per second.
	ScheduleRate float64 `json:"schedule_rate"`
	// Lead is how long before the first due time scheduling finished.
	Lead time.Duration `json:"lead_ns"`
	// FiredEarliest/Latest: the planned fire times relative to the due
	// time (negative: earlier), from the reminders table.
	FiredEarliest time.Duration `json:"planned_earliest_ns"`
	FiredLatest   time.Duration `json:"planned_latest_ns"`
	// Lateness is arrival at the fake provider minus the due time
	// (negative: before it), over the reminders that arrived.
	Arrived     int            `json:"arrived"`
	LatenessMin time.Duration  `json:"lateness_min_ns"`
	LatenessP50 time.Duration  `json:"lateness_p50_ns"`
	LatenessP99 time.Duration  `json:"lateness_p99_ns"`
	LatenessMax time.Duration  `json:"lateness_max_ns"`
	AfterDue    int            `json:"after_due"`
	AfterStale  int            `json:"after_due_plus_staleness"`
	NotArrived  int            `json:"not_arrived"`
	Staleness   time.Duration  `json:"staleness_ns"`
	Outcomes    map[string]int `json:"outcomes"`
	Duplicates  int            `json:"duplicates"`
	LedgerSent  int            `json:"ledger_sent"`
	LedgerOther map[string]int `json:"ledger_other,omitempty"`
}

// OK reports whether every reminder reached the provider exactly once and
// the ledger says so.
func (f FirePhase) OK() bool {
	return f.Arrived == f.Reminders && f.Duplicates == 0 && f.LedgerSent == f.Reminders && len(f.LedgerOther) == 0
}

// benchPhonePrefix numbers the firing batch's clients: the i-th has
// benchPhonePrefix followed by i in 7 digits, which is how a request to the
// fake Twilio is matched to its reminder.
const benchPhonePrefix = "+1628"

func reminderPhone(i int) string { return fmt.Sprintf("%s%07d", benchPhonePrefix, i) }

// phoneID finds the reminder a Twilio request carries by its To.
func phoneID(body []byte) (int64, bool) {
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return 0, false
	}
	to, ok := strings.CutPrefix(q.Get("To"), benchPhonePrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(to, 10, 64)
	return id, err == nil
}

// RunReminders runs bench-reminders.
func RunReminders(ctx context.Context, rc ReminderConfig) (ReminderResult, error) {
	rc.Defaults()
	if err := rc.validate(); err != nil {
		return ReminderResult{}, err
	}
	progress := func(format string, args ...any) {
		if rc.Progress != nil {
			rc.Progress(format, args...)
		}
	}
	res := ReminderResult{
		Store: rc.Store, ProviderLatency: rc.ProviderLatency, SMSRate: rc.SMSRate, Spread: rc.Spread, PlannedForRate: rc.SMSRate > 0 && !rc.NoPlan, SyncAlways: rc.SyncAlways,
		Workers: rc.Workers, Schedulers: rc.Schedulers, GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
		LoadBefore: loadAvg(),
	}
	cfg := Config{
		Store: rc.Store, DatabaseURL: rc.DatabaseURL, ProviderLatency: rc.ProviderLatency, SMSRate: rc.SMSRate,
		Channels: []string{"sms"}, Workers: rc.Workers, SyncAlways: rc.SyncAlways, Logger: rc.Logger,
		prefetch: 2 * rc.Workers, // as the app configures the deliver consumer
	}
	progress("starting embedded NATS, %s store, fake Twilio, deliverer with %d workers", rc.Store, rc.Workers)
	e, err := start(ctx, cfg, phoneID)
	if err != nil {
		return res, err
	}
	defer e.close()

	payload, err := pendingNotification(0).Marshal()
	if err != nil {
		return res, err
	}
	rawN := min(max(rc.Pending/10, 1000), 20000)
	progress("raw publish baseline: %d messages", rawN)
	if res.RawBefore, err = e.rawPublish(ctx, rc.Schedulers, rawN, payload); err != nil {
		return res, err
	}
	progress("raw publish: %.0f/s", res.RawBefore)

	progress("pending: scheduling %d reminders a day ahead", rc.Pending)
	if res.Pending, err = e.pending(ctx, rc); err != nil {
		return res, err
	}
	progress("pending: %.0f/s", res.Pending.Rate)

	progress("firing batch: %d clients and sessions", rc.Fire)
	if res.Fire, err = e.fire(ctx, rc, progress); err != nil {
		return res, err
	}
	if res.RawAfter, err = e.rawPublish(ctx, rc.Schedulers, rawN, payload); err != nil {
		return res, err
	}
	progress("raw publish again: %.0f/s; scheduling ran at %.0f%% of their mean", res.RawAfter, 100*res.Pending.Rate/res.RawRate())
	res.LoadAfter = loadAvg()
	return res, nil
}

// pending schedules rc.Pending reminders due tomorrow, one per session
// subject, as a practice's booked sessions would be.
func (e *env) pending(ctx context.Context, rc ReminderConfig) (PendingPhase, error) {
	p := PendingPhase{Reminders: rc.Pending, HeapBefore: heapInUse(), RSSBefore: e.serverRSS()}
	sched := &consumers.JetStreamSchedules{JS: e.js}
	tomorrow := time.Now().Add(24 * time.Hour)
	start := time.Now()
	err := parallel(ctx, rc.Schedulers, rc.Pending, func(ctx context.Context, i int) error {
		session := "pending-" + strconv.Itoa(i)
		n := pendingNotification(i)
		at := tomorrow.Add(time.Duration(i%3600) * time.Second)
		return sched.Schedule(ctx, subject.Reminder(session, 48*time.Hour), n, at, consumers.DefaultReminderStaleness+consumers.ScheduleTTLGrace)
	})
	if err != nil {
		return p, fmt.Errorf("bench-reminders: scheduling pending reminders: %w", err)
	}
	p.Elapsed = time.Since(start)
	p.Rate = perSecond(rc.Pending, p.Elapsed)
	p.HeapAfter, p.RSSAfter = heapInUse(), e.serverRSS()
	return p, nil
}

// pendingNotification is the i-th pending reminder's notification.
func pendingNotification(i int) consumers.Notification {
	session := "pending-" + strconv.Itoa(i)
	return consumers.Notification{
		Key: consumers.ReminderKey(session, 1, 48*time.Hour, vocab.SMS), ClientID: "c-pending", Channel: vocab.SMS,
		Purpose: vocab.Reminders, Kind: "reminder", SessionID: session, SessionVersion: 1,
		Vars: map[string]any{"When": "Thu, Dec 3 at 3:00 PM", "Link": "", "LocationKind": "in_person"},
	}
}

// fire books rc.Fire sessions whose reminders fall due together, has the
// real scheduler schedule them, and follows them to the fake Twilio.
func (e *env) fire(ctx context.Context, rc ReminderConfig, progress func(string, ...any)) (FirePhase, error) {
	f := FirePhase{Reminders: rc.Fire, DueSpread: rc.FireSpread.Truncate(time.Second), Staleness: consumers.DefaultReminderStaleness}
	if err := e.addReminderClients(ctx, rc); err != nil {
		return f, err
	}
	now := time.Now
	rcfg := consumers.ReminderConfig{
		Offsets: consumers.ReminderOffsets{rc.Offset},
		// The bench is about the firing, not quiet hours: every minute of
		// the day is allowed, whenever the bench runs.
		Policy:    quiethours.ReminderPolicy{Window: quiethours.Window{Start: 0, End: quiethours.ClockOf(24, 0)}},
		Staleness: consumers.DefaultReminderStaleness,
		Spread:    rc.Spread,
	}
	if rc.SMSRate > 0 && !rc.NoPlan {
		rcfg.Rates = map[string]float64{string(vocab.SMS): rc.SMSRate}
	}
	rs, err := consumers.NewReminderScheduler(e.st, &consumers.JetStreamSchedules{JS: e.js}, nil, rcfg, now, e.cfg.Logger)
	if err != nil {
		return f, err
	}
	spread := int(rc.FireSpread / time.Second)
	book := func(ctx context.Context, id string, client int, starts time.Time) error {
		_, err := e.st.ApplySessionBooked(ctx, store.EventRef{ID: "booked-" + id, Type: publishers.TypeSessionBooked, Time: time.Now()},
			store.Session{ID: id, ClientID: clientRef(client), StartsAt: starts, LocationKind: publishers.LocationInPerson})
		if err != nil {
			return fmt.Errorf("booking %s: %w", id, err)
		}
		return rs.Sync(ctx, id, false)
	}

	// Calibrate: how fast does the scheduler take bookings? Sessions a day
	// ahead, so they stay pending.
	calib := min(200, rc.Fire)
	t0 := time.Now()
	err = parallel(ctx, rc.Schedulers, calib, func(ctx context.Context, i int) error {
		return book(ctx, "calibrate-"+strconv.Itoa(i), i, time.Now().Add(26*time.Hour))
	})
	if err != nil {
		return f, err
	}
	rate := perSecond(calib, time.Since(t0))
	// Schedule the batch well before its first reminder may fire: the
	// scheduling time (with a margin), plus the longest the planner may
	// move a reminder earlier.
	lead := rcfg.MaxAdvance(rc.Offset, vocab.SMS)
	if rcfg.Rates != nil {
		// The planner goes only as far back as the batch needs at the rate.
		lead = min(lead, time.Duration(float64(rc.Fire)/rc.SMSRate*1.1*float64(time.Second))+10*time.Second)
	}
	first := time.Now().Add(time.Duration(1.5*float64(rc.Fire)/rate*float64(time.Second)) + lead + 10*time.Second).Truncate(time.Second)
	dueOf := func(i int) time.Time {
		if spread == 0 {
			return first
		}
		return first.Add(time.Duration(i%spread) * time.Second)
	}
	last := first.Add(time.Duration(max(spread-1, 0)) * time.Second)
	if rc.Fire < spread {
		last = dueOf(rc.Fire - 1)
	}
	progress("firing batch: scheduler calibrated at %.0f bookings/s; %d reminders due %s to %s (in %s), the planner may move them up to %s earlier",
		rate, rc.Fire, first.Format(time.TimeOnly), last.Format(time.TimeOnly), time.Until(first).Round(time.Second), lead)

	t0 = time.Now()
	err = parallel(ctx, rc.Schedulers, rc.Fire, func(ctx context.Context, i int) error {
		return book(ctx, "fire-"+strconv.Itoa(i), i, dueOf(i).Add(rc.Offset))
	})
	if err != nil {
		return f, err
	}
	f.ScheduleRate = perSecond(rc.Fire, time.Since(t0))
	f.Lead = time.Until(first)
	progress("firing batch: scheduled at %.0f/s, %s before the first due time", f.ScheduleRate, f.Lead.Round(time.Millisecond))
	if err := e.plannedSpread(ctx, &f, rc, dueOf); err != nil {
		return f, err
	}

	// Wait until every reminder has an outcome, or until the last could
	// no longer be sent (its expiry) and a little more.
	base := e.obs.done()
	deadline := dueOf(rc.Fire - 1).Add(consumers.DefaultReminderStaleness + time.Minute)
	for e.obs.done()-base < rc.Fire && time.Now().Before(deadline) {
		if !sleepUntil(ctx, time.Now().Add(50*time.Millisecond)) {
			return f, ctx.Err()
		}
	}
	_, f.Outcomes = e.obs.since(base)
	return f, e.fireAudit(ctx, &f, rc, dueOf)
}

// addReminderClients stores the batch's clients, each with a phone and
// SMS consent for reminders.
func (e *env) addReminderClients(ctx context.Context, rc ReminderConfig) error {
	at := time.Now().Add(-time.Hour)
	return parallel(ctx, rc.Schedulers, rc.Fire, func(ctx context.Context, i int) error {
		id := clientRef(i)
		_, err := e.st.ApplyClientUpsert(ctx, store.EventRef{ID: "bench-" + id, Type: "client.upserted", Time: at}, store.Client{
			ID: id, FirstName: "Ada", Timezone: "UTC", Locale: "en", Phone: reminderPhone(i),
		})
		if err != nil {
			return fmt.Errorf("adding client %s: %w", id, err)
		}
		_, err = e.st.AppendConsent(ctx, store.EventRef{}, store.ConsentEntry{
			ClientID: id, Channel: vocab.SMS, Purpose: vocab.Reminders, Action: store.ConsentGranted,
			Source: "bench", OccurredAt: at,
		})
		if err != nil {
			return fmt.Errorf("consent for %s: %w", id, err)
		}
		return nil
	})
}

func clientRef(i int) string { return "c_rem_" + strconv.Itoa(i) }

// plannedSpread reads where the scheduler put the batch's fire times,
// relative to their due times.
func (e *env) plannedSpread(ctx context.Context, f *FirePhase, rc ReminderConfig, dueOf func(int) time.Time) error {
	for i := range rc.Fire {
		rows, err := e.st.ListReminders(ctx, store.ReminderFilter{SessionID: "fire-" + strconv.Itoa(i), Limit: 10})
		if err != nil {
			return fmt.Errorf("bench-reminders: reading reminders: %w", err)
		}
		for _, r := range rows {
			d := r.FireAt.Sub(dueOf(i))
			if i == 0 || d < f.FiredEarliest {
				f.FiredEarliest = d
			}
			if i == 0 || d > f.FiredLatest {
				f.FiredLatest = d
			}
		}
	}
	return nil
}

// fireAudit fills lateness and the audit: one request per reminder at the
// provider, one ledger row each, sent.
func (e *env) fireAudit(ctx context.Context, f *FirePhase, rc ReminderConfig, dueOf func(int) time.Time) error {
	var lat []time.Duration
	for i := range rc.Fire {
		at, reqs := e.arrivals.get(int64(i))
		if reqs == 0 {
			f.NotArrived++
			continue
		}
		f.Duplicates += reqs - 1
		l := at.Sub(dueOf(i))
		lat = append(lat, l)
		if l > 0 {
			f.AfterDue++
		}
		if l > f.Staleness {
			f.AfterStale++
		}
	}
	f.Arrived = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		f.LatenessMin, f.LatenessP50, f.LatenessP99, f.LatenessMax = lat[0], percentile(lat, 50), percentile(lat, 99), lat[len(lat)-1]
	}
	rows, err := e.st.ListDeliveries(ctx, store.DeliveryFilter{Limit: rc.Fire + 1000})
	if err != nil {
		return fmt.Errorf("bench-reminders: reading the ledger: %w", err)
	}
	for _, d := range rows {
		if !strings.HasPrefix(d.SessionID, "fire-") {
			continue
		}
		if d.State == store.DeliverySent || d.State == store.DeliveryDelivered {
			f.LedgerSent++
			continue
		}
		if f.LedgerOther == nil {
			f.LedgerOther = map[string]int{}
		}
		f.LedgerOther[string(d.State)+":"+d.Reason]++
	}
	return nil
}

// serverRSS is the resident memory the NATS server reports (varz mem):
// the whole process, since the server is embedded.
func (e *env) serverRSS() int64 {
	v, err := e.ns.Varz(nil)
	if err != nil {
		return 0
	}
	return v.Mem
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// parallel calls fn for 0..n-1 from workers goroutines; the first error
// stops it.
func parallel(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// loadAvg is the machine's 1-minute load average (0 where /proc is not).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}

// rawPublish is the baseline for the scheduling rate: n messages the size
// of a pending reminder's notification published plainly (PubAck, no
// schedule) by as many publishers, to a stream configured like
// NUDGE_NOTIFY on the same server; the stream is deleted afterwards.
func (e *env) rawPublish(ctx context.Context, workers, n int, payload []byte) (float64, error) {
	var sc jetstream.StreamConfig
	for _, s := range bus.DefaultTopology(1).StreamConfigs() {
		if s.Name == bus.StreamNotify {
			sc = s
		}
	}
	sc.Name, sc.Subjects, sc.Description = rawStream, []string{"bench.raw.>"}, "nudge bench-reminders: raw publish baseline"
	if _, err := e.js.CreateStream(ctx, sc); err != nil {
		return 0, fmt.Errorf("bench-reminders: creating %s: %w", rawStream, err)
	}
	defer func() { _ = e.js.DeleteStream(context.WithoutCancel(ctx), rawStream) }()
	start := time.Now()
	err := parallel(ctx, workers, n, func(ctx context.Context, i int) error {
		_, err := e.js.Publish(ctx, rawSubject, payload)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bench-reminders: raw publish: %w", err)
	}
	return perSecond(n, time.Since(start)), nil
}
