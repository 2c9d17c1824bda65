// Package metrics is nudge's Prometheus instrumentation: events taken in,
// notifications by outcome and reason, provider latency, consumer
// redeliveries, outcomes and backlog, dead letters.
//
// Everything is registered on the Metrics' own registry (never the global
// default one), so tests and several Run calls in one process do not
// collide. Label values are bounded enums: anything outside the known set
// is counted as "other", so no label ever carries a client id, a phone
// number or an email address, whatever a caller passes in.
package metrics

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/vocab"
)

// Event intake results (nudge_events_total{result}).
const (
	EventAccepted    = "accepted"
	EventDuplicate   = "duplicate"
	EventRejected    = "rejected"    // failed validation; nothing in its batch was accepted
	EventUnavailable = "unavailable" // valid, but the bus did not take it (503)
)

// Consumer message results (nudge_consumer_messages_total{result}).
const (
	MessageAck   = "ack"
	MessageRetry = "retry"
	MessageTerm  = "term"
)

// Other is the label value for anything outside a label's known set.
const Other = "other"

// Config configures New. The zero value is usable: no backlog gauge.
type Config struct {
	// Pending, when set, is asked at every scrape for the backlog of
	// nudge's durable consumers (nudge_consumer_pending); see
	// JetStreamPending.
	Pending PendingFunc
	// PendingTimeout bounds that question, so a slow or unreachable NATS
	// never stalls a scrape; default 2s.
	PendingTimeout time.Duration
	// Logger receives scrape errors; nil discards them.
	Logger *slog.Logger
}

// Metrics holds nudge's collectors. Its methods are safe for concurrent
// use and cheap enough for every message.
type Metrics struct {
	reg    *prometheus.Registry
	logger *slog.Logger

	events          *prometheus.CounterVec
	notifications   *prometheus.CounterVec
	providerLatency *prometheus.HistogramVec
	redeliveries    *prometheus.CounterVec
	messages        *prometheus.CounterVec
	deadLetters     *prometheus.CounterVec
}

// New returns Metrics registered on a fresh registry, along with the Go
// runtime and process collectors.
func New(cfg Config) *Metrics {
	m := &Metrics{
		reg:    prometheus.NewRegistry(),
		logger: cfg.Logger,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nudge_events_total",
			Help: "Events received by the HTTP intake, by type and result (accepted, duplicate, rejected, unavailable).",
		}, []string{"type", "result"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nudge_notifications_total",
			Help: "Notification outcomes of the deliverer, by channel, purpose, outcome and reason.",
		}, []string{"channel", "purpose", "outcome", "reason"}),
		providerLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "nudge_provider_request_duration_seconds",
			Help:    "Duration of provider send calls (Twilio, SendGrid), by channel and result.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel", "result"}),
		redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nudge_consumer_redeliveries_total",
			Help: "Messages handled on a second or later delivery, by consumer.",
		}, []string{"consumer"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nudge_consumer_messages_total",
			Help: "Messages handled by nudge's consumers, by consumer and result (ack, retry, term).",
		}, []string{"consumer", "result"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nudge_dead_letters_total",
			Help: "Messages JetStream gave up on after their maximum deliveries, by stream.",
		}, []string{"stream"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.events, m.notifications, m.providerLatency, m.redeliveries, m.messages, m.deadLetters,
	)
	if cfg.Pending != nil {
		timeout := cfg.PendingTimeout
		if timeout <= 0 {
			timeout = 2 * time.Second
		}
		m.reg.MustRegister(&pendingCollector{fn: cfg.Pending, timeout: timeout})
	}
	return m
}

// Registry is where every collector is registered (for tests and for
// adding collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the Prometheus exposition. A failing collector (NATS not
// answering for the backlog) is logged and left out; the rest is served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      errorLog{m.logger},
		Registry:      m.reg, // promhttp_metric_handler_errors_total
	})
}

// Event counts one event of the HTTP intake. It has the shape of
// httpapi.Config.Events.
func (m *Metrics) Event(typ, result string) {
	m.events.WithLabelValues(eventType(typ), oneOf(result, eventResults)).Inc()
}

// Outcome implements consumers.Observer.
func (m *Metrics) Outcome(channel vocab.Channel, purpose vocab.Purpose, outcome, reason string) {
	m.notifications.WithLabelValues(
		oneOf(string(channel), channels), oneOf(string(purpose), purposes), oneOf(outcome, outcomes), Reason(reason),
	).Inc()
}

// ProviderCall implements consumers.Observer.
func (m *Metrics) ProviderCall(ch vocab.Channel, d time.Duration, err error) {
	m.providerLatency.WithLabelValues(oneOf(string(ch), channels), providerResult(err)).Observe(d.Seconds())
}

// ConsumerMessage counts one message a consumer finished with: result is
// ack, retry or term; delivered is the message's delivery count
// (NumDelivered), and above 1 the message is also counted as a
// redelivery. It has the shape of consumers.Runner.Observe.
func (m *Metrics) ConsumerMessage(consumer, result string, delivered uint64) {
	consumer = oneOf(consumer, consumerNames)
	m.messages.WithLabelValues(consumer, oneOf(result, messageResults)).Inc()
	if delivered > 1 {
		m.redeliveries.WithLabelValues(consumer).Inc()
	}
}

// DeadLettered counts one message moved to the dead-letter store. It has
// the shape of consumers.DeadLetters.Counted.
func (m *Metrics) DeadLettered(stream string) {
	m.deadLetters.WithLabelValues(oneOf(stream, streamNames)).Inc()
}

// providerResult is the latency histogram's result label: ok, or the
// class the channel gave the failure.
func providerResult(err error) string {
	if err == nil {
		return "ok"
	}
	var pe *channel.ProviderError
	if !errors.As(err, &pe) {
		return "error"
	}
	switch pe.Class {
	case channel.Transient:
		if pe.RetryAfter > 0 {
			return "rate_limited"
		}
		if pe.Status == 0 {
			return "no_response"
		}
		return "transient"
	case channel.Permanent:
		return "permanent"
	case channel.RevokeConsent:
		return "revoke_consent"
	}
	return "error"
}

// errorLog adapts slog to promhttp's logger.
type errorLog struct{ l *slog.Logger }

func (e errorLog) Println(v ...any) {
	if e.l == nil {
		return
	}
	parts := make([]string, len(v))
	for i, x := range v {
		if s, ok := x.(string); ok {
			parts[i] = s
		} else if err, ok := x.(error); ok {
			parts[i] = err.Error()
		}
	}
	e.l.Warn("metrics scrape", "err", strings.Join(parts, " "))
}
