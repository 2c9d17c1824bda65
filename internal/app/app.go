// Package app wires nudge together: bus, store, consumers and HTTP server.
// `nudge dev` and `nudge serve` both call Run; dev mode only swaps in the
// embedded parts (NATS server, SQLite, fake providers), so dev runs the
// production code path.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/consumers/inbound"
	"github.com/nudgehq/nudge/consumers/oncall"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/calcom"
	"github.com/nudgehq/nudge/internal/httpapi"
	"github.com/nudgehq/nudge/internal/metrics"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/tracing"
	"github.com/nudgehq/nudge/internal/unsubscribe"
	"github.com/nudgehq/nudge/internal/webhook"
	"github.com/nudgehq/nudge/publishers"
)

// Config is everything Run needs. Exactly one of EmbeddedNATS and NATS is
// used: EmbeddedNATS when it is not nil.
type Config struct {
	Mode string // "dev" or "serve": shown in logs and the console

	HTTPAddr string
	// MetricsAddr, when set, serves /metrics, /healthz and /readyz on their
	// own listener, and /metrics leaves the public HTTPAddr.
	MetricsAddr string
	APIToken    string
	// UnsubscribeSecret keys the tokens of email unsubscribe links
	// (package unsubscribe); at least 32 bytes. Required with email.
	UnsubscribeSecret string

	EmbeddedNATS *bus.EmbeddedConfig
	NATS         bus.ExternalConfig
	Topology     bus.Topology

	// OpenStore opens (and, unless told otherwise, migrates) the store.
	OpenStore func(ctx context.Context) (store.Store, error)

	Delivery Delivery
	// Reminders is the practice's appointment-reminder policy; a zero
	// Policy.Window follows Delivery.QuietHours.
	Reminders consumers.ReminderConfig
	// Encouragement configures encouragement texts.
	Encouragement Encouragement
	// Calcom configures POST /webhooks/calcom (Cal.com bookings).
	Calcom calcom.Config
	// OnCall names the staff alerted when a message needs urgent attention.
	OnCall oncall.Config
	// ExtraAuthed are more API routes behind the token (dev outbox).
	ExtraAuthed map[string]http.Handler
	// InitialAdmin, when set, is created as an admin if the store has no
	// staff account yet (dev mode's first start).
	InitialAdmin *InitialAdmin

	Logger *slog.Logger
	// Banner, when set, is written once everything is up (dev mode's
	// "what started, your token, try this" text). It receives the bound
	// HTTP address.
	Banner func(w io.Writer, httpAddr string)
	Out    io.Writer

	// ShutdownTimeout bounds the graceful stop; default 10s.
	ShutdownTimeout time.Duration
	// StartTimeout bounds how long Run waits for NATS, JetStream and the
	// store at start; default bus.DefaultStartTimeout.
	StartTimeout time.Duration
}

// joinStops returns a stop that runs b, then a (announcements stop
// feeding before the deliverer drains).
func joinStops(a, b func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error { return errors.Join(b(ctx), a(ctx)) }
}

// Run starts nudge and blocks until ctx is cancelled, then shuts down in
// order: stop intake (HTTP), drain consumers, close the bus, close the store.
func Run(ctx context.Context, cfg Config) (err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	var closers []func() // run in reverse on return
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()

	// Tracing: OTLP export when OTEL_EXPORTER_OTLP_* ask for it.
	stopTracing, err := tracing.Setup(ctx, "nudge", cfg.Mode)
	if err != nil {
		return err
	}
	closers = append(closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stopTracing(sctx)
	})

	// Starting waits, within a bound, for a cluster that is still forming.
	startCtx, cancelStart := context.WithTimeoutCause(ctx, cmp.Or(cfg.StartTimeout, bus.DefaultStartTimeout),
		errors.New("start timeout reached (NUDGE_START_TIMEOUT)"))
	defer cancelStart()

	// Bus.
	var nc *nats.Conn
	var ns *server.Server
	var storage *bus.StorageWatch
	if cfg.EmbeddedNATS != nil {
		ns, err = bus.StartEmbedded(*cfg.EmbeddedNATS)
		if err != nil {
			return err
		}
		closers = append(closers, func() { ns.Shutdown(); ns.WaitForShutdown() })
		// A full disk leaves the embedded server unable to store until
		// JetStream restarts: the watch restarts it once there is room.
		wctx, stopWatch := context.WithCancel(ctx)
		closers = append(closers, stopWatch)
		storage = bus.WatchStorage(wctx, ns, *cfg.EmbeddedNATS, log, 0)
		nc, err = bus.ConnectEmbedded(ns, "nudge-"+cfg.Mode)
	} else {
		natsCfg := cfg.NATS
		natsCfg.Logger = log
		nc, err = bus.Connect(startCtx, natsCfg)
	}
	if err != nil {
		return err
	}
	closers = append(closers, nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("opening jetstream: %w", err)
	}
	if err := bus.ProvisionRetrying(startCtx, js, cfg.Topology, log); err != nil {
		return err
	}

	// Store.
	st, err := cfg.OpenStore(ctx)
	if err != nil {
		return err
	}
	closers = append(closers, func() { _ = st.Close() })
	if _, err := ensureInitialAdmin(ctx, st, cfg.InitialAdmin, log); err != nil {
		return err
	}

	// Metrics: one set per Run, on its own registry.
	m := metrics.New(metrics.Config{
		Pending: metrics.JetStreamPending(js, metrics.TopologyConsumers(cfg.Topology)...),
		Logger:  log,
	})

	// Consumers.
	reminders, err := newReminders(st, js, cfg, log)
	if err != nil {
		return err
	}
	disp := consumers.BusDispatcher{JS: js}
	encourage, err := newEncouragement(st, js, cfg, disp, log)
	if err != nil {
		return err
	}
	nudges, err := newJournal(st, js, cfg, disp, log)
	if err != nil {
		return err
	}
	ingest := &consumers.Ingest{Store: st, Logger: log, Sessions: reminders, Jobs: []consumers.EventHook{encourage, nudges, reminders}}
	if !cfg.Calcom.TrustContact {
		ingest.UntrustedContactSources = []string{cfg.Calcom.EventSource()}
	}
	ic, err := openConsumer(startCtx, js, bus.StreamEvents, bus.ConsumerIngest, log)
	if err != nil {
		return fmt.Errorf("opening ingest consumer: %w", err)
	}
	stopIngest, err := consumers.Runner{Name: bus.ConsumerIngest, Handler: ingest.Handle, Logger: log, Observe: m.ConsumerMessage, PriorityGroup: bus.IngestPriorityGroup}.Start(ctx, ic)
	if err != nil {
		return err
	}
	if cfg.UnsubscribeSecret != "" || cfg.Delivery.SendGrid != nil {
		if cfg.Delivery.unsubscribe, err = unsubscribe.New([]byte(cfg.UnsubscribeSecret)); err != nil {
			_ = stopIngest(context.Background())
			return fmt.Errorf("unsubscribe links: %w", err)
		}
	}
	stopDeliver, err := startDeliverer(ctx, startCtx, js, st, cfg, disp, m, m.ConsumerMessage, log)
	if err != nil {
		_ = stopIngest(context.Background())
		return err
	}
	ann, err := startAnnouncements(ctx, js, st, cfg, disp, m.ConsumerMessage, log)
	if err != nil {
		_ = errors.Join(stopIngest(context.Background()), stopDeliver(context.Background()))
		return err
	}
	stopDeliver = joinStops(stopDeliver, ann.stop)
	stopOnCall, err := startOnCall(ctx, js, cfg, disp, m.ConsumerMessage, log)
	if err != nil {
		_ = errors.Join(stopIngest(context.Background()), stopDeliver(context.Background()))
		return err
	}
	stopDeliver = joinStops(stopDeliver, stopOnCall)
	stopEncourage, err := startEncouragement(ctx, startCtx, js, encourage, m.ConsumerMessage, log)
	if err != nil {
		_ = errors.Join(stopIngest(context.Background()), stopDeliver(context.Background()))
		return err
	}
	stopDeliver = joinStops(stopDeliver, stopEncourage)
	optIn := inbound.DoubleOptIn{Keyword: cfg.Encouragement.keyword(), PerWeek: encourage.PerWeek(), Joined: encourage.Joined}
	stopInbound, err := startInbound(ctx, startCtx, js, st, disp, optIn, encourage.Sync, m.ConsumerMessage, log)
	if err != nil {
		_ = errors.Join(stopIngest(context.Background()), stopDeliver(context.Background()))
		return err
	}
	stopDeliver = joinStops(stopDeliver, stopInbound)
	dead := &consumers.DeadLetters{Store: st, JS: js, Logger: log, Counted: m.DeadLettered}
	dc, err := openConsumer(startCtx, js, bus.StreamAdvisories, bus.ConsumerDeadLetter, log)
	if err != nil {
		_ = errors.Join(stopIngest(context.Background()), stopDeliver(context.Background()))
		return fmt.Errorf("opening deadletter consumer: %w", err)
	}
	stopDead, err := consumers.Runner{Name: bus.ConsumerDeadLetter, Handler: dead.Handle, Logger: log, Observe: m.ConsumerMessage}.Start(ctx, dc)
	if err != nil {
		_ = errors.Join(stopIngest(context.Background()), stopDeliver(context.Background()))
		return err
	}
	stopConsumers := func(ctx context.Context) error {
		return errors.Join(stopIngest(ctx), stopDeliver(ctx), stopDead(ctx))
	}

	// Provider webhooks (signed) and the staff inbox (behind the token).
	extra := calcom.NewHandler(cfg.Calcom, publishers.NewPublisher(js), log).Routes()
	if cfg.Delivery.unsubscribe != nil {
		unsub := &unsubscribe.Handler{Sealer: cfg.Delivery.unsubscribe, Practice: cfg.Delivery.Practice.Name, Logger: log,
			Revoke: unsubscribe.PublishRevocation(publishers.NewPublisher(js))}
		maps.Copy(extra, unsub.Routes())
	}
	authed := map[string]http.Handler{}
	maps.Copy(authed, cfg.ExtraAuthed)
	if cfg.Delivery.Twilio != nil || cfg.Delivery.SendGridWebhookKey != "" {
		hooks, err := webhook.New(webhook.Config{
			Store:             st,
			Dispatcher:        disp,
			PublicURL:         cfg.Delivery.Practice.PublicURL,
			TwilioAuthToken:   cfg.Delivery.twilioAuthToken(),
			Inbound:           inbound.BusPublisher{JS: js},
			SendGridPublicKey: cfg.Delivery.SendGridWebhookKey,
			Logger:            log,
		})
		if err != nil {
			_ = stopConsumers(context.Background())
			return err
		}
		for pattern, h := range hooks.Routes() {
			extra[pattern] = tracing.Handler("webhook "+pattern, pattern, h)
		}
		inbox := hooks.InboxHandler()
		for _, pattern := range webhook.InboxPatterns {
			authed[pattern] = inbox
		}
	}

	// HTTP.
	ready := func(ctx context.Context) error {
		if !nc.IsConnected() {
			return &httpapi.NotReadyError{Dependency: "nats", Err: errors.New("not connected")}
		}
		if storage != nil {
			if err := storage.Err(); err != nil {
				return &httpapi.NotReadyError{Dependency: "jetstream", Err: err}
			}
		}
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.AccountInfo(actx)
		cancel()
		if err != nil {
			return &httpapi.NotReadyError{Dependency: "jetstream", Err: err}
		}
		if err := st.Ping(ctx); err != nil {
			return &httpapi.NotReadyError{Dependency: "store", Err: err}
		}
		return nil
	}
	publicMetrics := m.Handler()
	if cfg.MetricsAddr != "" {
		publicMetrics = nil
	}
	api := httpapi.New(httpapi.Config{
		Store:         st,
		Publisher:     publishers.NewPublisher(js),
		APIToken:      cfg.APIToken,
		Logger:        log,
		Mode:          cfg.Mode,
		PublicURL:     cfg.Delivery.Practice.PublicURL,
		ExtraAuthed:   authed,
		Extra:         extra,
		DeadLetters:   dead,
		Announcements: ann.service,
		Encouragement: encourage,
		Events:        m.Event,
		Metrics:       publicMetrics,
		Ready:         ready,
	})
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		_ = stopConsumers(context.Background())
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("listening on %s: the address is already in use (another nudge?): stop it, or choose another address with --http (NUDGE_HTTP): %w", cfg.HTTPAddr, err)
		}
		return fmt.Errorf("listening on %s: %w", cfg.HTTPAddr, err)
	}
	srv := httpapi.NewHTTPServer(api)
	srvErr := make(chan error, 2)
	var opsSrv *http.Server
	if cfg.MetricsAddr != "" {
		oln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			_ = stopConsumers(context.Background())
			return fmt.Errorf("listening on %s (metrics): %w", cfg.MetricsAddr, err)
		}
		opsSrv = httpapi.NewHTTPServer(httpapi.Ops(ready, m.Handler()))
		// Health checks and a scrape answer in seconds: safe to bound.
		opsSrv.WriteTimeout = httpapi.OpsWriteTimeout
		go func() { srvErr <- opsSrv.Serve(oln) }()
		log.Info("metrics and health checks", "listen", oln.Addr().String())
	}
	go func() { srvErr <- srv.Serve(ln) }()
	log.Info("nudge started", "mode", cfg.Mode, "http", ln.Addr().String())
	if cfg.Banner != nil && cfg.Out != nil {
		cfg.Banner(cfg.Out, ln.Addr().String())
	}

	select {
	case <-ctx.Done():
	case err = <-srvErr:
		err = fmt.Errorf("http server: %w", err)
	}

	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn("http shutdown", "err", serr)
	}
	if opsSrv != nil {
		_ = opsSrv.Shutdown(sctx)
	}
	if serr := stopConsumers(sctx); serr != nil {
		log.Warn("consumer drain", "err", serr)
	}
	return err
}

// openConsumer looks up a provisioned durable consumer, retrying while the
// cluster moves its leader (bounded by ctx).
func openConsumer(ctx context.Context, js jetstream.JetStream, stream, name string, log *slog.Logger) (jetstream.Consumer, error) {
	var c jetstream.Consumer
	err := bus.Retry(ctx, log, "consumer "+stream+"/"+name, func(ctx context.Context) error {
		var err error
		c, err = js.Consumer(ctx, stream, name)
		return err
	})
	return c, err
}
