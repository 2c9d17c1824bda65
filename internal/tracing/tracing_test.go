package tracing

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestCloudEventTraceparentAndNATSHeaders(t *testing.T) {
	ext := map[string]json.RawMessage{
		"traceparent": json.RawMessage(`"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`),
		"tracestate":  json.RawMessage(`"vendor=x"`),
	}
	ctx := FromCloudEvent(context.Background(), ext)
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsRemote() || sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || sc.SpanID().String() != "00f067aa0ba902b7" || sc.TraceState().Get("vendor") != "x" {
		t.Fatalf("span context from the extension = %+v", sc)
	}

	h := nats.Header{}
	Inject(ctx, h)
	if got := h.Get("traceparent"); got != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Fatalf("traceparent header = %q", got)
	}
	back := trace.SpanContextFromContext(Extract(context.Background(), h))
	if back.TraceID() != sc.TraceID() || back.SpanID() != sc.SpanID() {
		t.Errorf("extracted %+v, want %+v", back, sc)
	}

	for _, bad := range []map[string]json.RawMessage{nil, {"traceparent": json.RawMessage(`42`)}, {"traceparent": json.RawMessage(`"garbage"`)}} {
		if sc := trace.SpanContextFromContext(FromCloudEvent(context.Background(), bad)); sc.IsValid() {
			t.Errorf("FromCloudEvent(%v) = %+v, want no parent", bad, sc)
		}
	}
}

func TestSetupIsOffWithoutOTLPSettings(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	if Enabled() {
		t.Fatal("enabled without an endpoint")
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	if !Enabled() {
		t.Fatal("not enabled with OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	t.Setenv("OTEL_SDK_DISABLED", "true")
	if Enabled() {
		t.Fatal("enabled with OTEL_SDK_DISABLED=true")
	}
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	if _, err := Setup(context.Background(), "nudge", "test"); err == nil {
		t.Error("Setup accepted the grpc protocol it does not support")
	}
}

func TestScheduledMessageStartsLinkedTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("test")

	ctx, producer := tr.Start(context.Background(), "schedule")
	h := nats.Header{}
	Inject(ctx, h)
	producer.End()
	if tp := Traceparent(ctx); tp == "" || tp != h.Get("traceparent") {
		t.Fatalf("Traceparent = %q, header %q", tp, h.Get("traceparent"))
	}
	if Traceparent(context.Background()) != "" {
		t.Error("Traceparent without a span is not empty")
	}

	// A plain message continues the publisher's trace.
	pctx, opts := FromMessage(context.Background(), h)
	_, child := tr.Start(pctx, "plain", opts...)
	child.End()
	// A message a schedule generated starts a new trace linked to it.
	h.Set("Nats-Scheduler", "notify.deferred.k")
	sctx, opts := FromMessage(context.Background(), h)
	_, fired := tr.Start(sctx, "fired", opts...)
	fired.End()
	// A webhook span links to the provider call named by a traceparent.
	_, hook := tr.Start(context.Background(), "webhook")
	Link(trace.ContextWithSpan(context.Background(), hook), h.Get("traceparent"))
	Link(trace.ContextWithSpan(context.Background(), hook), "00-garbage")
	hook.End()

	want := producer.SpanContext()
	spans := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		spans[s.Name] = s
	}
	if p := spans["plain"].Parent; p.SpanID() != want.SpanID() {
		t.Errorf("plain message parent = %v, want %v", p.SpanID(), want.SpanID())
	}
	f := spans["fired"]
	if f.Parent.IsValid() || f.SpanContext.TraceID() == want.TraceID() || len(f.Links) != 1 || f.Links[0].SpanContext.SpanID() != want.SpanID() {
		t.Errorf("fired message: parent %v trace %v links %+v, want a new trace linked to %v", f.Parent, f.SpanContext.TraceID(), f.Links, want)
	}
	w := spans["webhook"]
	if len(w.Links) != 1 || w.Links[0].SpanContext.TraceID() != want.TraceID() || w.Links[0].SpanContext.SpanID() != want.SpanID() {
		t.Errorf("webhook links = %+v, want one to %v", w.Links, want)
	}
}
