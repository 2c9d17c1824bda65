package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/subject"
	"github.com/nudgehq/nudge/internal/vocab"
)

// benchRemindersCmd measures reminder scheduling on an embedded JetStream
// with nudge's own streams: how fast reminders are scheduled, what the
// pending schedules cost the server in memory, and how late a batch fires.
// It is a program, not a test: figures depend on the machine.
type benchRemindersCmd struct {
	Count      int           `help:"Pending reminders to schedule (far in the future)." default:"100000"`
	Fire       int           `help:"Reminders scheduled to fire during the run, to measure lateness." default:"10000"`
	FireAfter  time.Duration `help:"The firing batch is due between this and FireAfter+FireSpread from its scheduling (raised so the whole batch is scheduled before the first is due)." default:"5s"`
	FireSpread time.Duration `help:"See --fire-after." default:"5s"`
	Workers    int           `help:"Concurrent publishers." default:"64"`
	SyncAlways bool          `help:"Flush the file store on every write, as production (sync_interval: always) and dev mode do." default:"true" negatable:""`
	Dir        string        `help:"JetStream store directory (default: a new temp dir, removed afterwards)." type:"path" placeholder:"DIR"`
}

func (b *benchRemindersCmd) Run(g *globals) error {
	if b.Count < 0 || b.Fire < 1 || b.Workers < 1 {
		return errors.New("bench-reminders: --count must be ≥ 0, --fire and --workers ≥ 1")
	}
	dir := b.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "nudge-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: dir, SyncAlways: b.SyncAlways})
	if err != nil {
		return err
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := bus.ConnectEmbedded(ns, "nudge-bench")
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx := g.ctx
	if err := bus.Provision(ctx, js, bus.DefaultTopology(1)); err != nil {
		return err
	}
	sched := &consumers.JetStreamSchedules{JS: js}
	out := g.stdout
	fmt.Fprintf(out, "bench-reminders: %d pending + %d firing, %d workers, sync always %t, go %s, %d CPUs\n",
		b.Count, b.Fire, b.Workers, b.SyncAlways, runtime.Version(), runtime.NumCPU())

	memBefore, rssBefore := heapInUse(), serverRSS(ns)

	// 1. Pending reminders: one schedule per session×offset subject, due
	// tomorrow, as a practice's booked sessions would be.
	tomorrow := time.Now().Add(24 * time.Hour)
	start := time.Now()
	err = b.publish(ctx, b.Count, func(i int) (string, consumers.Notification, time.Time) {
		session := "bench-" + strconv.Itoa(i)
		n := benchNotification("pending:" + session)
		return subject.Reminder(session, 48*time.Hour), n, tomorrow.Add(time.Duration(i%3600) * time.Second)
	}, sched)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	rate := float64(b.Count) / elapsed.Seconds()
	runtime.GC()
	memAfter, rssAfter := heapInUse(), serverRSS(ns)
	fmt.Fprintf(out, "schedule: %d reminders in %s: %.0f/s\n", b.Count, elapsed.Round(time.Millisecond), rate)
	fmt.Fprintf(out, "memory with %d pending: process heap in use %s (+%s), process RSS (varz mem) %s (+%s)",
		b.Count, mib(memAfter), mib(memAfter-memBefore), mib(rssAfter), mib(rssAfter-rssBefore))
	if b.Count > 0 {
		fmt.Fprintf(out, ", ≈ %d bytes of heap per pending reminder", (memAfter-memBefore)/int64(b.Count))
	}
	fmt.Fprintln(out)

	// 2. Lateness: a batch due a few seconds from now, received off the
	// notify subject as the deliver consumer would see it.
	// The whole batch must be on the stream before the first of it is due,
	// or lateness would measure this program's publishing, not the firing.
	if b.Count > 0 {
		need := time.Duration(float64(b.Fire)/rate*1.2*float64(time.Second)) + time.Second
		b.FireAfter = max(b.FireAfter, need.Round(time.Second))
	}
	lat, err := b.lateness(ctx, js, sched)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "fire: %d reminders due %s to %s after scheduling began: lateness p50 %s p99 %s max %s (due: the schedule's @at; arrival: received by a consumer)\n",
		len(lat), b.FireAfter, b.FireAfter+b.FireSpread, pct(lat, 50), pct(lat, 99), pct(lat, 100))
	return nil
}

// publish schedules count reminders with b.Workers concurrent publishers.
func (b *benchRemindersCmd) publish(ctx context.Context, count int, gen func(i int) (string, consumers.Notification, time.Time), sched consumers.ReminderBus) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range b.Workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= count || ctx.Err() != nil {
					return
				}
				subject, n, at := gen(i)
				if err := sched.Schedule(ctx, subject, n, at, consumers.DefaultReminderStaleness+consumers.ScheduleTTLGrace); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// lateness schedules b.Fire reminders due between FireAfter and
// FireAfter+FireSpread from now and returns how late each arrived.
func (b *benchRemindersCmd) lateness(ctx context.Context, js jetstream.JetStream, sched consumers.ReminderBus) ([]time.Duration, error) {
	cons, err := js.OrderedConsumer(ctx, bus.StreamNotify, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject.Notify(vocab.SMS)}, DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.Fire)
	done := make(chan struct{})
	cc, err := cons.Consume(func(m jetstream.Msg) {
		got := time.Now()
		n, err := consumers.DecodeNotification(m.Data())
		if err != nil {
			return
		}
		_, unix, _ := strings.Cut(strings.TrimPrefix(n.Key, "fire:"), "@")
		sec, err := strconv.ParseInt(unix, 10, 64)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		lat = append(lat, got.Sub(time.Unix(sec, 0)))
		if len(lat) == b.Fire {
			close(done)
		}
	})
	if err != nil {
		return nil, err
	}
	defer cc.Stop()

	base := time.Now().Add(b.FireAfter)
	spread := max(int64(b.FireSpread/time.Second), 1)
	err = b.publish(ctx, b.Fire, func(i int) (string, consumers.Notification, time.Time) {
		at := base.Add(time.Duration(int64(i)%spread) * time.Second).Truncate(time.Second)
		session := "fire-" + strconv.Itoa(i)
		return subject.Reminder(session, 2*time.Hour), benchNotification(fmt.Sprintf("fire:%d@%d", i, at.Unix())), at
	}, sched)
	if err != nil {
		return nil, err
	}
	select {
	case <-done:
	case <-time.After(b.FireAfter + b.FireSpread + 2*time.Minute):
		mu.Lock()
		defer mu.Unlock()
		return nil, fmt.Errorf("only %d of %d reminders fired within 2 minutes of their due time", len(lat), b.Fire)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	return lat, nil
}

func benchNotification(key string) consumers.Notification {
	return consumers.Notification{
		Key: key, ClientID: "c-bench", Channel: vocab.SMS, Purpose: vocab.Reminders, Kind: "reminder", SessionID: key, SessionVersion: 1,
		Vars: map[string]any{"When": "Thu, Dec 3 at 3:00 PM", "Link": "", "LocationKind": "in_person"},
	}
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// serverRSS is the resident memory the NATS server reports (varz mem):
// the whole process, since the server is embedded.
func serverRSS(ns *server.Server) int64 {
	v, err := ns.Varz(nil)
	if err != nil {
		return 0
	}
	return v.Mem
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// pct is the p-th percentile of sorted durations (p=100: the maximum).
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	i = min(max(i-1, 0), len(sorted)-1)
	return sorted[i].Round(time.Millisecond)
}
