package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/nudgehq/nudge/internal/bench"
)

// benchRemindersCmd measures reminders on an embedded JetStream with
// nudge's own streams (see bench.RunReminders): how fast pending reminders
// are scheduled and what they cost the server in memory, then how late a
// batch due together reaches the fake Twilio through the real scheduler,
// deliverer, store and checks. It is a program, not a test: figures depend
// on the machine.
type benchRemindersCmd struct {
	Store           string        `help:"Store: sqlite (a temp file) or postgres (a fresh schema, dropped afterwards)." default:"sqlite" enum:"sqlite,postgres"`
	DatabaseURL     string        `name:"database-url" help:"Postgres server for --store postgres." default:"postgres://postgres@127.0.0.1:5432/test?sslmode=disable"`
	Count           int           `help:"Pending reminders to schedule a day ahead, straight on the bus." default:"100000"`
	Fire            int           `help:"Sessions booked whose reminder falls due during the run, followed to the provider." default:"10000"`
	FireSpread      time.Duration `name:"fire-spread" help:"The batch's due times spread over this long (whole seconds; 0: all due in the same second)." default:"1m"`
	Offset          time.Duration `help:"The reminder offset before the session." default:"2h"`
	Spread          time.Duration `help:"How much earlier than due an unpaced reminder may fire (the scheduler's spread; 0: its default of 2m; negative: at its due time, for comparison)." default:"0"`
	SMSRate         float64       `name:"sms-rate" help:"Pace SMS at this many per second (the shared pacer), and plan fire times for it; 0 is no pacing." default:"0"`
	NoPlan          bool          `name:"no-plan" help:"With --sms-rate: do not tell the scheduler the rate (the pacer still paces), to compare."`
	ProviderLatency time.Duration `name:"provider-latency" help:"Latency of every fake Twilio request." default:"20ms"`
	Workers         int           `help:"Notifications the deliver consumer handles at once." default:"32"`
	Schedulers      int           `help:"Concurrent schedulers (pending schedules, bookings)." default:"32"`
	SyncAlways      bool          `name:"sync-always" help:"Flush the file store on every write, as production (sync_interval: always) and dev mode do." default:"true" negatable:""`
	JSON            bool          `name:"json" help:"Print the result as JSON."`
}

func (b *benchRemindersCmd) Run(g *globals) error {
	res, err := bench.RunReminders(g.ctx, bench.ReminderConfig{
		Store: b.Store, DatabaseURL: b.DatabaseURL, ProviderLatency: b.ProviderLatency, SMSRate: b.SMSRate,
		SyncAlways: b.SyncAlways, Workers: b.Workers, Schedulers: b.Schedulers, Pending: b.Count,
		Fire: b.Fire, FireSpread: b.FireSpread, Offset: b.Offset, Spread: b.Spread, NoPlan: b.NoPlan, Logger: g.logger,
		Progress: func(format string, args ...any) { fmt.Fprintf(g.stderr, "bench-reminders: "+format+"\n", args...) },
	})
	if err != nil {
		return err
	}
	if b.JSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		writeReminderTable(g.stdout, res)
	}
	if !res.Fire.OK() {
		return fmt.Errorf("bench-reminders: not every reminder reached the provider exactly once: %d of %d arrived, %d duplicates, ledger %d sent, other %v",
			res.Fire.Arrived, res.Fire.Reminders, res.Fire.Duplicates, res.Fire.LedgerSent, res.Fire.LedgerOther)
	}
	return nil
}

func writeReminderTable(w io.Writer, r bench.ReminderResult) {
	pacing := "no pacing"
	if r.SMSRate > 0 {
		pacing = fmt.Sprintf("SMS paced at %g/s", r.SMSRate)
		if !r.PlannedForRate {
			pacing += " (fire times not planned for it)"
		}
	}
	spread := "spread " + r.Spread.String()
	switch {
	case r.Spread == 0:
		spread = "default spread"
	case r.Spread < 0:
		spread = "no spread"
	}
	fmt.Fprintf(w, "bench-reminders: store %s, sync always %t, %s, %s, provider latency %s, %d deliver workers, %d schedulers; %s, %d CPUs, load %.2f → %.2f\n",
		r.Store, r.SyncAlways, spread, pacing, r.ProviderLatency, r.Workers, r.Schedulers, r.GoVersion, r.CPUs, r.LoadBefore, r.LoadAfter)
	p := r.Pending
	fmt.Fprintf(w, "raw publish (no schedule, same messages and publishers): %.0f/s before, %.0f/s after\n", r.RawBefore, r.RawAfter)
	fmt.Fprintf(w, "pending: %d reminders scheduled in %s: %.0f/s (%.0f%% of raw); heap in use %s (+%s), server RSS %s (+%s)",
		p.Reminders, p.Elapsed.Round(time.Millisecond), p.Rate, 100*p.Rate/r.RawRate(), mib(p.HeapAfter), mib(p.HeapAfter-p.HeapBefore), mib(p.RSSAfter), mib(p.RSSAfter-p.RSSBefore))
	if p.Reminders > 0 {
		fmt.Fprintf(w, ", ≈ %d bytes of heap each", (p.HeapAfter-p.HeapBefore)/int64(p.Reminders))
	}
	fmt.Fprintln(w)
	f := r.Fire
	fmt.Fprintf(w, "fire: %d sessions booked and scheduled at %.0f/s, done %s before the first due time; reminders due within %s; planned fire times %s to %s from due\n",
		f.Reminders, f.ScheduleRate, f.Lead.Round(time.Millisecond), f.DueSpread, signed(f.FiredEarliest), signed(f.FiredLatest))
	fmt.Fprintf(w, "fire: lateness at the provider (arrival − due): min %s p50 %s p99 %s max %s; %d of %d after due, %d after due + staleness (%s), %d not arrived\n",
		signed(f.LatenessMin), signed(f.LatenessP50), signed(f.LatenessP99), signed(f.LatenessMax), f.AfterDue, f.Reminders, f.AfterStale, f.Staleness, f.NotArrived)
	audit := "ok"
	if !f.OK() {
		audit = "NOT OK"
	}
	fmt.Fprintf(w, "audit %s: %d arrived once, %d duplicate requests, ledger %d sent, other %v; outcomes %v\n",
		audit, f.Arrived, f.Duplicates, f.LedgerSent, f.LedgerOther, f.Outcomes)
}

func signed(d time.Duration) string {
	return fmt.Sprintf("%+.3fs", d.Seconds())
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
