package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestTracingEventToProviderCall runs dev mode in-process with an in-memory
// span exporter. A session.booked event carrying a CloudEvents traceparent
// produces one trace: intake (child of the producer's span) → ingest
// (through the NATS headers) → deliver (through the notification's
// headers) → the provider call. No span attribute or event carries the
// client's phone, email, name or the message body.
func TestTracingEventToProviderCall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs dev mode; skipped with -short")
	}
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(context.Background()) })

	addr, token := freeAddr(t), strings.Repeat("t", 40)
	var c cli
	parser, err := kong.New(&c, kong.Name("nudge"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse([]string{"dev", "--data-dir", t.TempDir(), "--http", addr, "--api-token", token, "--quiet-hours", "00:00-24:00"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- c.Dev.Run(&globals{ctx: ctx, stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.DiscardHandler)})
	}()
	t.Cleanup(func() { cancel(); <-done })
	p := &devProcess{addr: addr, token: token}
	for deadline := time.Now().Add(30 * time.Second); getStatus("http://"+addr+"/readyz") != http.StatusOK; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("dev mode did not become ready")
		}
	}

	const (
		phone   = "+14155550188"
		email   = "ada.lovelace@example.org"
		name    = "Adaline"
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		parent  = "00f067aa0ba902b7"
	)
	now := time.Now()
	booked := event("tr-session", "session.booked", now.Add(-time.Minute), map[string]any{
		"session_id": "s_tr", "client_id": "c_tr", "starts_at": now.Add(72 * time.Hour).Format(time.RFC3339), "location_kind": "in_person"})
	booked["traceparent"] = "00-" + traceID + "-" + parent + "-01"
	events := []any{
		event("tr-client", "client.upserted", now.Add(-2*time.Minute), map[string]any{
			"client_id": "c_tr", "first_name": name, "timezone": "America/New_York", "phone": phone, "email": email}),
		event("tr-consent", "consent.granted", now.Add(-2*time.Minute), map[string]any{
			"client_id": "c_tr", "channel": "sms", "purpose": "reminders", "source": "intake-form"}),
	}
	if status, body := p.do(t, http.MethodPost, "/v1/events", events); status != http.StatusAccepted {
		t.Fatalf("POST = %d %v", status, body)
	}
	p.eventually(t, "/v1/clients/c_tr", func(m map[string]any) bool { return m["first_name"] == name })
	if status, body := p.do(t, http.MethodPost, "/v1/events", []any{booked}); status != http.StatusAccepted {
		t.Fatalf("POST = %d %v", status, body)
	}

	var msgBody string
	waitFor(t, time.Now().Add(30*time.Second), "the booking confirmation in the outbox", func() bool {
		_, out := p.do(t, http.MethodGet, "/v1/dev/outbox", nil)
		msgs, _ := out["messages"].([]any)
		for _, m := range msgs {
			if mm := m.(map[string]any); mm["to"] == phone {
				msgBody, _ = mm["body"].(string)
				return true
			}
		}
		return false
	})

	// Follow the chain by parent span ids within the producer's trace.
	var spans tracetest.SpanStubs
	find := func(name string, parentID trace.SpanID) *tracetest.SpanStub {
		for i := range spans {
			s := &spans[i]
			if s.Name == name && s.SpanContext.TraceID().String() == traceID && s.Parent.SpanID() == parentID {
				return s
			}
		}
		return nil
	}
	producer, _ := trace.SpanIDFromHex(parent)
	var chain []*tracetest.SpanStub
	waitFor(t, time.Now().Add(10*time.Second), "the span chain intake → ingest → deliver → provider", func() bool {
		spans = exp.GetSpans()
		chain = chain[:0]
		id := producer
		for _, name := range []string{"intake session.booked", "consume ingest", "consume deliver", "provider send sms"} {
			s := find(name, id)
			if s == nil {
				return false
			}
			chain = append(chain, s)
			id = s.SpanContext.SpanID()
		}
		return true
	})
	for _, s := range chain {
		t.Logf("span %q trace %s parent %s", s.Name, s.SpanContext.TraceID(), s.Parent.SpanID())
	}

	// The fake Twilio's signed status callbacks reach the webhook, whose
	// spans are checked too.
	waitFor(t, time.Now().Add(15*time.Second), "a webhook span", func() bool {
		for _, s := range exp.GetSpans() {
			if strings.HasPrefix(s.Name, "webhook ") {
				return true
			}
		}
		return false
	})

	// No client data anywhere in any span.
	secrets := []string{phone, strings.TrimPrefix(phone, "+"), email, name}
	if msgBody != "" {
		secrets = append(secrets, msgBody)
	}
	spans = exp.GetSpans()
	for _, s := range spans {
		var values []string
		for _, a := range s.Attributes {
			values = append(values, a.Value.Emit())
		}
		for _, e := range s.Events {
			for _, a := range e.Attributes {
				values = append(values, a.Value.Emit())
			}
		}
		b, _ := json.Marshal(s.Status)
		values = append(values, s.Name, string(b))
		for _, v := range values {
			for _, secret := range secrets {
				if strings.Contains(v, secret) {
					t.Errorf("span %q carries client data %q in %q", s.Name, secret, v)
				}
			}
		}
	}
	t.Logf("%d spans checked for client data", len(spans))
}
