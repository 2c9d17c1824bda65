package tracing

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go"
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
