// Package tracing is nudge's OpenTelemetry seam: one tracer, W3C trace
// context carried in NATS message headers, and OTLP export switched on by
// the standard OTEL_EXPORTER_OTLP_* variables (off otherwise).
//
// A trace follows one event: the intake span (a child of the CloudEvents
// `traceparent` extension when the producer sent one) → the ingest span that
// applies it → the notification it queues → the deliver span → the provider
// call; provider webhooks get spans of their own, linked to the provider
// call they report on (its traceparent travels in the Twilio status callback
// URL and as a SendGrid custom arg, see [Traceparent] and [Link]). A message
// a JetStream schedule generated (a reminder, a deferred notification) may
// fire days later: its consumer span starts a new trace linked to the one
// that scheduled it ([FromMessage]). Span attributes carry
// kinds, keys and outcomes only — never a phone number, email address, name
// or message body (invariant 8 in docs/invariants.md; a test checks it).
package tracing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/nudgehq/nudge/internal/logmask"
)

// Name is the instrumentation scope of every nudge span.
const Name = "github.com/nudgehq/nudge"

// Attribute keys nudge sets. Values are kinds, opaque keys and outcomes.
const (
	AttrEventType    = attribute.Key("nudge.event.type")
	AttrEventID      = attribute.Key("cloudevents.event_id")
	AttrEventSource  = attribute.Key("cloudevents.event_source")
	AttrConsumer     = attribute.Key("nudge.consumer")
	AttrSubject      = attribute.Key("messaging.destination.name")
	AttrChannel      = attribute.Key("nudge.channel")
	AttrNotification = attribute.Key("nudge.notification.key")
	AttrOutcome      = attribute.Key("nudge.outcome")
	AttrProvider     = attribute.Key("nudge.provider")
)

var propagator = propagation.TraceContext{}

func init() {
	otel.SetTextMapPropagator(propagator)
}

// Tracer is nudge's tracer, from the global provider (a no-op until Setup
// or a test installs one).
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// Enabled reports whether the environment asks for OTLP trace export.
func Enabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_TRACES_EXPORTER"), "none") || strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs an OTLP/HTTP exporter configured by the standard
// OTEL_EXPORTER_OTLP_* variables (endpoint, headers, timeout, TLS) when
// Enabled, and returns the function that flushes and stops it. Without
// them it installs nothing: spans cost a no-op.
func Setup(ctx context.Context, service, version string) (shutdown func(context.Context) error, err error) {
	if !Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	if p := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"); p == "" {
		if p = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" && p != "http/protobuf" {
			return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_PROTOCOL=%s: nudge exports over http/protobuf only", p)
		}
	} else if p != "http/protobuf" {
		return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=%s: nudge exports over http/protobuf only", p)
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: creating the OTLP exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", service), attribute.String("service.version", version)))
	if err != nil {
		res = resource.Default()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// headerCarrier adapts nats.Header to the propagator.
type headerCarrier nats.Header

func (h headerCarrier) Get(key string) string { return nats.Header(h).Get(key) }
func (h headerCarrier) Set(key, value string) { nats.Header(h).Set(key, value) }
func (h headerCarrier) Keys() []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, k)
	}
	return out
}

// Inject writes ctx's span context into h (traceparent, tracestate).
func Inject(ctx context.Context, h nats.Header) {
	if h == nil {
		return
	}
	propagator.Inject(ctx, headerCarrier(h))
}

// Extract returns ctx with the remote span context carried in h, if any.
func Extract(ctx context.Context, h nats.Header) context.Context {
	if h == nil {
		return ctx
	}
	return propagator.Extract(ctx, headerCarrier(h))
}

// FromMessage returns the context and start options for the span that
// processes a JetStream message with headers h: a child of the span that
// published it, or, for a message a schedule generated (Nats-Scheduler
// header: a reminder or deferred notification firing hours or days after
// it was scheduled), the root of a new trace with a link to the span that
// scheduled it, so one trace does not stretch over days.
func FromMessage(ctx context.Context, h nats.Header) (context.Context, []trace.SpanStartOption) {
	remote := Extract(ctx, h)
	if h == nil || h.Get(schedulerHeader) == "" {
		return remote, nil
	}
	sc := trace.SpanContextFromContext(remote)
	if !sc.IsValid() {
		return ctx, nil
	}
	return ctx, []trace.SpanStartOption{trace.WithNewRoot(), trace.WithLinks(trace.Link{SpanContext: sc,
		Attributes: []attribute.KeyValue{attribute.String("nudge.link", "scheduled_by")}})}
}

// schedulerHeader is the header nats-server sets on a message a schedule
// generated (jetstream.SchedulerHeader); it copies the schedule's other
// headers, traceparent included.
const schedulerHeader = "Nats-Scheduler"

// Param is the name under which a provider carries a message's trace
// context back to nudge: a query parameter of the Twilio status callback
// URL, a SendGrid custom arg. Its value is a W3C traceparent: random ids,
// never client data.
const Param = "traceparent"

// Traceparent returns the W3C traceparent of ctx's span, or "" when ctx
// has none (tracing off).
func Traceparent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	return c["traceparent"]
}

// Link adds to ctx's span a link to the span named by traceparent (from
// a verified provider webhook: the provider call it reports on). A
// malformed or empty traceparent adds nothing.
func Link(ctx context.Context, traceparent string) {
	if traceparent == "" {
		return
	}
	sc := trace.SpanContextFromContext(propagator.Extract(context.Background(), propagation.MapCarrier{"traceparent": traceparent}))
	if !sc.IsValid() {
		return
	}
	trace.SpanFromContext(ctx).AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("nudge.link", "provider_call")}})
}

// FromCloudEvent returns ctx with the remote parent named by a CloudEvents
// distributed-tracing extension (`traceparent`, `tracestate`, JSON string
// values), or ctx unchanged when there is none or it is malformed.
func FromCloudEvent(ctx context.Context, ext map[string]json.RawMessage) context.Context {
	raw, ok := ext["traceparent"]
	if !ok {
		return ctx
	}
	var tp, ts string
	if err := json.Unmarshal(raw, &tp); err != nil {
		return ctx
	}
	if rawTS, ok := ext["tracestate"]; ok {
		_ = json.Unmarshal(rawTS, &ts)
	}
	c := propagation.MapCarrier{"traceparent": tp}
	if ts != "" {
		c["tracestate"] = ts
	}
	return propagator.Extract(ctx, c)
}

// End records err (if any) on span and ends it.
func End(span trace.Span, err error) {
	if err != nil {
		// Errors may quote an address: they go through the same mask as logs.
		msg := logmask.String(err.Error())
		span.RecordError(errors.New(msg))
		span.SetStatus(codes.Error, msg)
	}
	span.End()
}

// Handler wraps h in a server span named name (a provider webhook): the
// route pattern and the status code are its only attributes.
func Handler(name, route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := Tracer().Start(r.Context(), name, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.route", route)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(attribute.Int("http.response.status_code", sw.status))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
