package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/consumers/announcement"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/fakeprovider"
	"github.com/nudgehq/nudge/internal/pacing"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
	"github.com/nudgehq/nudge/templates"
)

// benchAnnounceCmd measures a staff announcement to a large group: how
// long until every member is enqueued (decided and recorded in the durable
// fan-out plan, the first window on the bus), and how fast the paced
// drain sends compared with the pacing limit. A program, not a test.
type benchAnnounceCmd struct {
	Members    int           `help:"Group members, each with SMS consent for announcements (set up directly in the store)." default:"100000"`
	SMSRate    float64       `name:"sms-rate" help:"Pacing limit for SMS, per second; the drain is compared with it." default:"100"`
	Drain      time.Duration `help:"How long to measure the drain." default:"30s"`
	Workers    int           `help:"Notifications the deliver consumer handles at once." default:"16"`
	SyncAlways bool          `name:"sync-always" help:"Flush the JetStream file store on every write, as production and dev mode do." default:"true" negatable:""`
}

func (b *benchAnnounceCmd) Run(g *globals) error {
	ctx := g.ctx
	dir, err := os.MkdirTemp("", "nudge-bench-announce-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: filepath.Join(dir, "nats"), SyncAlways: b.SyncAlways})
	if err != nil {
		return err
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	nc, err := bus.ConnectEmbedded(ns, "nudge-bench-announce")
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	topo := bus.DefaultTopology(1)
	if err := bus.Provision(ctx, js, topo); err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "nudge.db"))
	if err != nil {
		return err
	}
	defer st.Close()

	fmt.Fprintf(g.stderr, "setting up %d members…\n", b.Members)
	setupStart := time.Now()
	if err := seedGroup(ctx, st.DB(), b.Members); err != nil {
		return err
	}
	fmt.Fprintf(g.stderr, "set up in %v\n", time.Since(setupStart).Round(time.Millisecond))

	// The delivery side, as the app wires it, against a fake Twilio.
	tw := fakeprovider.NewTwilio(fakeprovider.TwilioConfig{})
	defer tw.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: tw, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	sms, err := channel.NewTwilio(channel.TwilioConfig{AccountSid: tw.AccountSid(), AuthToken: tw.AuthToken(), From: "+15005550006", BaseURL: "http://" + ln.Addr().String()})
	if err != nil {
		return err
	}
	tmpl, err := templates.Load(nil)
	if err != nil {
		return err
	}
	pacer, err := pacing.New(ctx, js, pacing.Limits{string(vocab.SMS): b.SMSRate}, 1)
	if err != nil {
		return err
	}
	sent := &sentCounter{}
	disp := consumers.BusDispatcher{JS: js}
	dl := &consumers.Deliverer{
		Store: st, Senders: map[vocab.Channel]channel.Sender{vocab.SMS: sms}, Templates: tmpl, Dispatcher: disp, Pacer: pacer,
		Practice: consumers.Practice{Name: "Harbor Practice", PostalAddress: "1 Main St", CrisisLine: "988", PublicURL: "https://nudge.example.org"},
		Observer: sent, Checks: consumers.DefaultChecks(st, quiethours.Default, quiethours.DefaultCadence()),
	}
	c, err := js.Consumer(ctx, bus.StreamNotify, bus.ConsumerDeliver)
	if err != nil {
		return err
	}
	stopDeliver, err := consumers.Runner{Name: bus.ConsumerDeliver, Handler: dl.Handle, Concurrency: b.Workers, Prefetch: 2 * b.Workers}.Start(ctx, c)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = stopDeliver(sctx)
	}()

	// Enqueue: the planner records every member's decision (the durable
	// fan-out plan), then the feeder puts the first window on the bus.
	audience := announcement.Audience{Store: st}
	content := announcement.Content{Templates: tmpl, Lint: templates.DefaultLintConfig()}
	planner := &announcement.Planner{Store: st, Audience: audience, Content: content}
	window := max(announcement.DefaultWindow, int(10*b.SMSRate))
	feeder := &announcement.Feeder{Store: st, Dispatcher: disp, Window: window}
	req := publishers.AnnouncementRequested{AnnouncementID: "bench", GroupID: "g_bench", Body: "The Thursday group meets at 6 in room 2.",
		RequestedBy: "bench", Urgent: true, UrgentReason: "benchmark"}
	t0 := time.Now()
	if err := planner.Plan(ctx, "bench-event", req, nil); err != nil {
		return err
	}
	planned := time.Since(t0)
	if err := feeder.Round(ctx); err != nil {
		return err
	}
	firstWindow := time.Since(t0)
	a, err := st.GetAnnouncement(ctx, "bench")
	if err != nil {
		return err
	}

	// Drain: the feeder keeps the window full; the deliverer sends at the
	// pacing limit. The first seconds (the pacer's first slot, the window
	// filling) are left out of the rate.
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go feeder.Run(fctx)
	warm := 3 * time.Second
	time.Sleep(warm)
	n0, d0 := sent.n.Load(), time.Now()
	time.Sleep(b.Drain)
	n1, d1 := sent.n.Load(), time.Now()
	cancel()
	rate := float64(n1-n0) / d1.Sub(d0).Seconds()

	fmt.Fprintf(g.stdout, "bench-announce: %d members (SQLite, JetStream sync always=%v), SMS pacing %.0f/s, window %d\n",
		a.Total, b.SyncAlways, b.SMSRate, window)
	fmt.Fprintf(g.stdout, "  enqueued (every member decided and recorded in the fan-out plan): %v  (%.0f members/s; target ≤ 10s)\n",
		planned.Round(time.Millisecond), float64(a.Total)/planned.Seconds())
	fmt.Fprintf(g.stdout, "  first window on the bus:                                          %v\n", firstWindow.Round(time.Millisecond))
	fmt.Fprintf(g.stdout, "  drain over %v after %v warm-up: %d sent, %.1f/s = %.1f%% of the pacing limit (target within 5%%)\n",
		d1.Sub(d0).Round(time.Millisecond), warm, n1-n0, rate, 100*rate/b.SMSRate)
	if o := sent.others(); len(o) > 0 {
		fmt.Fprintf(g.stdout, "  other outcomes: %v\n", o)
	}
	if planned > 10*time.Second {
		fmt.Fprintln(g.stdout, "  enqueue target missed")
	}
	if d := rate/b.SMSRate - 1; d < -0.05 || d > 0.05 {
		fmt.Fprintln(g.stdout, "  drain target missed")
	}
	return nil
}

// sentCounter counts sends (a consumers.Observer).
type sentCounter struct {
	n     atomic.Int64
	mu    sync.Mutex
	other map[string]int
}

func (s *sentCounter) Outcome(_ vocab.Channel, _ vocab.Purpose, outcome, reason string) {
	if outcome == consumers.OutcomeSent {
		s.n.Add(1)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.other == nil {
		s.other = map[string]int{}
	}
	s.other[outcome+":"+reason]++
}

func (s *sentCounter) others() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.other)
}
func (s *sentCounter) ProviderCall(vocab.Channel, time.Duration, error) {}

// seedGroup writes members clients with SMS consent for announcements and
// group g_bench straight into SQLite, in large transactions: setting up is
// not what the bench measures.
func seedGroup(ctx context.Context, db *sql.DB, members int) error {
	now := time.Now().Add(-time.Hour).UnixMicro()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.ExecContext(ctx, `INSERT INTO support_groups (id, name, updated_at, created_at) VALUES ('g_bench', 'Bench circle', ?, ?)`, now, now); err != nil {
		return err
	}
	const batch = 500
	for start := 0; start < members; start += batch {
		n := min(batch, members-start)
		var clients, consents, memberships strings.Builder
		var ca, ka, ma []any
		for i := start; i < start+n; i++ {
			id := fmt.Sprintf("c%06d", i)
			sep := ","
			if i == start {
				sep = ""
			}
			clients.WriteString(sep + "(?, 'Ada', 'UTC', ?, '', 'en', '', ?, ?)")
			ca = append(ca, id, fmt.Sprintf("+1415%07d", i), now, now)
			consents.WriteString(sep + "(?, 'sms', 'announcements', 'granted', ?, 'bench', '', NULL, ?, ?)")
			ka = append(ka, id, fmt.Sprintf("+1415%07d", i), now, now)
			memberships.WriteString(sep + "('g_bench', ?, 1, ?)")
			ma = append(ma, id, now)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"INSERT INTO clients (id, first_name, timezone, phone, email, locale, preferred_channel, updated_at, created_at) VALUES " + clients.String(), ca},
			{"INSERT INTO consent_ledger (client_id, channel, purpose, action, address, source, wording_version, event_id, occurred_at, recorded_at) VALUES " + consents.String(), ka},
			{"INSERT INTO group_memberships (group_id, client_id, active, updated_at) VALUES " + memberships.String(), ma},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return fmt.Errorf("seeding: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return errors.Join(errors.New("seeding"), err)
	}
	return nil
}
