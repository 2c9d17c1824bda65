package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/fakeprovider"
	"github.com/nudgehq/nudge/internal/metrics"
	"github.com/nudgehq/nudge/internal/pacing"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/store/postgres"
	"github.com/nudgehq/nudge/internal/store/sqlite"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/templates"
)

// env is one run's pipeline, wired as internal/app wires the deliver
// consumer, minus intake and HTTP: the bench publishes notifications
// itself, as the schedulers and webhooks do.
type env struct {
	cfg      Config
	ns       *server.Server
	js       jetstream.JetStream
	st       store.Store
	arrivals *arrivals
	obs      *observer
	handler  *timedHandler
	closers  []func() // run in reverse by close
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// start brings the pipeline up with cfg.Clients clients; idOf matches a
// provider request to the notification it carries. On error what was
// started is closed.
func start(ctx context.Context, cfg Config, idOf func(body []byte) (int64, bool)) (_ *env, err error) {
	e := &env{cfg: cfg, arrivals: newArrivals(idOf)}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	dir, err := os.MkdirTemp("", "nudge-bench-")
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() { _ = os.RemoveAll(dir) })

	ns, err := bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: filepath.Join(dir, "nats"), SyncAlways: cfg.SyncAlways})
	if err != nil {
		return nil, err
	}
	e.ns = ns
	e.closers = append(e.closers, func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, err := bus.ConnectEmbedded(ns, "nudge-bench")
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, nc.Close)
	if e.js, err = jetstream.New(nc); err != nil {
		return nil, err
	}
	topo := bus.DefaultTopology(1)
	if err := bus.Provision(ctx, e.js, topo); err != nil {
		return nil, err
	}

	if e.st, err = e.openStore(ctx, dir); err != nil {
		return nil, err
	}
	if err := e.addClients(ctx); err != nil {
		return nil, err
	}
	return e, e.startPipeline(ctx, topo)
}

// startPipeline serves the fake providers and starts the deliverer.
func (e *env) startPipeline(ctx context.Context, topo bus.Topology) error {
	senders, err := e.startProviders()
	if err != nil {
		return err
	}
	return e.startDeliverer(ctx, senders, topo)
}

// openStore opens a new SQLite file, or a fresh schema on the Postgres
// server that is dropped when the run ends.
func (e *env) openStore(ctx context.Context, dir string) (store.Store, error) {
	if e.cfg.Store == "sqlite" {
		st, err := sqlite.Open(ctx, filepath.Join(dir, "nudge.db"))
		if err != nil {
			return nil, err
		}
		e.closers = append(e.closers, func() { _ = st.Close() })
		return st, nil
	}
	url, drop, err := freshSchema(ctx, e.cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() {
		if err := drop(); err != nil {
			e.cfg.Logger.Error("bench: leaving a schema behind", "err", err)
		}
	})
	st, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() { _ = st.Close() })
	return st, nil
}

// addClients stores the clients directly, each with SMS and email consent
// for announcements.
func (e *env) addClients(ctx context.Context) error {
	at := time.Now().Add(-time.Hour)
	for i := range e.cfg.Clients { // none for the reminders bench, which adds its own
		id := clientID(i)
		_, err := e.st.ApplyClientUpsert(ctx, store.EventRef{ID: "bench-" + id, Type: "client.upserted", Time: at}, store.Client{
			ID: id, FirstName: "Ada", Timezone: "America/New_York", Locale: "en",
			Phone: fmt.Sprintf("+1415555%04d", 1000+i), Email: id + "@bench.example.org",
		})
		if err != nil {
			return fmt.Errorf("bench: adding client %s: %w", id, err)
		}
		for _, ch := range vocab.Channels() {
			_, err := e.st.AppendConsent(ctx, store.EventRef{}, store.ConsentEntry{
				ClientID: id, Channel: ch, Purpose: vocab.Announcements, Action: store.ConsentGranted,
				Source: "bench", OccurredAt: at,
			})
			if err != nil {
				return fmt.Errorf("bench: consent for %s: %w", id, err)
			}
		}
	}
	return nil
}

func clientID(i int) string { return fmt.Sprintf("c_bench_%04d", i) }

// fakeKeep is how many messages each fake provider remembers in a run.
const fakeKeep = 1000

// startProviders serves the fake Twilio and SendGrid behind the arrival
// recorder and returns senders pointed at them.
func (e *env) startProviders() (map[vocab.Channel]channel.Sender, error) {
	// The fakes stand for remote services: they remember only their newest
	// messages (which a reconciling Lookup needs), so their memory does not
	// weigh on the process measured. The audit counts requests itself.
	tw := fakeprovider.NewTwilio(fakeprovider.TwilioConfig{Keep: fakeKeep})
	sg := fakeprovider.NewSendGrid(fakeprovider.SendGridConfig{Keep: fakeKeep})
	tw.SetLatency(e.cfg.ProviderLatency)
	sg.SetLatency(e.cfg.ProviderLatency)
	e.closers = append(e.closers, tw.Close, sg.Close)
	twURL, err := e.serve(e.arrivals.wrap(tw))
	if err != nil {
		return nil, err
	}
	sgURL, err := e.serve(e.arrivals.wrap(sg))
	if err != nil {
		return nil, err
	}
	sms, err := channel.NewTwilio(channel.TwilioConfig{AccountSid: tw.AccountSid(), AuthToken: tw.AuthToken(), From: "+15005550006", BaseURL: twURL})
	if err != nil {
		return nil, err
	}
	email, err := channel.NewSendGrid(channel.SendGridConfig{APIKey: sg.APIKey(), FromEmail: "hello@practice.example", FromName: "Harbor Practice", BaseURL: sgURL})
	if err != nil {
		return nil, err
	}
	return map[vocab.Channel]channel.Sender{vocab.SMS: sms, vocab.Email: email}, nil
}

// serve listens on a loopback port; the listener closes with the run.
func (e *env) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("bench: listening for a fake provider: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	e.closers = append(e.closers, func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), nil
}

// startDeliverer runs the deliver consumer as the app does (same checks,
// templates, metrics and handler timeout), with the bench's concurrency.
func (e *env) startDeliverer(ctx context.Context, senders map[vocab.Channel]channel.Sender, topo bus.Topology) error {
	tmpl, err := templates.Load(nil)
	if err != nil {
		return err
	}
	m := metrics.New(metrics.Config{Logger: e.cfg.Logger})
	e.obs = newObserver(m)
	dl := &consumers.Deliverer{
		Store:      e.st,
		Senders:    senders,
		Templates:  tmpl,
		Dispatcher: consumers.BusDispatcher{JS: e.js},
		Practice:   consumers.Practice{Name: "Harbor Practice", PostalAddress: "1 Main St, Springfield", CrisisLine: "988", PublicURL: "https://nudge.example.org"},
		Observer:   e.obs,
		Logger:     e.cfg.Logger,
		Checks:     consumers.DefaultChecks(e.st, quiethours.Default, quiethours.DefaultCadence()),
	}
	if e.cfg.SMSRate > 0 {
		p, err := pacing.New(ctx, e.js, pacing.Limits{string(vocab.SMS): e.cfg.SMSRate}, topo.Replicas)
		if err != nil {
			return err
		}
		dl.Pacer = p
	}
	c, err := e.js.Consumer(ctx, bus.StreamNotify, bus.ConsumerDeliver)
	if err != nil {
		return fmt.Errorf("bench: opening deliver consumer: %w", err)
	}
	e.handler = &timedHandler{next: dl.Handle}
	stop, err := consumers.Runner{
		Name: bus.ConsumerDeliver, Handler: e.handler.handle, Logger: e.cfg.Logger,
		HandleTimeout: 20 * time.Second, Observe: m.ConsumerMessage, Concurrency: e.cfg.Workers, Prefetch: e.cfg.prefetch,
	}.Start(ctx, c)
	if err != nil {
		return err
	}
	e.closers = append(e.closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stop(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			e.cfg.Logger.Warn("stopping deliver consumer", "err", err)
		}
	})
	return nil
}
