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
// headers) → the provider call. The provider's status webhooks (Twilio
// status callback, SendGrid event webhook) link to that provider call, and
// an appointment reminder fired by a JetStream schedule starts a trace
// linked to the booking that scheduled it. No span name, attribute, event
// or link attribute carries a client's phone, email, name or a message
// body.
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
	if _, err := parser.Parse([]string{"dev", "--data-dir", t.TempDir(), "--http", addr, "--api-token", token, "--quiet-hours", "00:00-24:00",
		"--reminder-offsets", "6s"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- c.Dev.Run(&globals{ctx: ctx, stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.DiscardHandler)})
	}()
	t.Cleanup(func() { cancel(); <-done })
	p := &devProcess{addr: addr, token: token}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// What there was, to tell a slow step from a missing span.
		for _, s := range exp.GetSpans() {
			var links []string
			for _, l := range s.Links {
				links = append(links, l.SpanContext.TraceID().String()+"/"+l.SpanContext.SpanID().String())
			}
			t.Logf("span %q trace %s span %s parent %s links %v at %s", s.Name, s.SpanContext.TraceID(), s.SpanContext.SpanID(),
				s.Parent.SpanID(), links, s.StartTime.Format("15:04:05.000"))
		}
	})
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
		// A second client, by email, whose session is 18 s away: its
		// reminder (offset 6s) fires as a JetStream schedule during the test.
		email2   = "grace.hopper@example.org"
		name2    = "Gracelyn"
		traceID2 = "0af7651916cd43dd8448eb211c80319c"
		parent2  = "b7ad6b7169203331"
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
		event("tr-client2", "client.upserted", now.Add(-2*time.Minute), map[string]any{
			"client_id": "c_tr2", "first_name": name2, "timezone": "America/New_York", "email": email2, "preferred_channel": "email"}),
		event("tr-consent2", "consent.granted", now.Add(-2*time.Minute), map[string]any{
			"client_id": "c_tr2", "channel": "email", "purpose": "reminders", "source": "intake-form"}),
	}
	if status, body := p.do(t, http.MethodPost, "/v1/events", events); status != http.StatusAccepted {
		t.Fatalf("POST = %d %v", status, body)
	}
	p.eventually(t, "/v1/clients/c_tr", func(m map[string]any) bool { return m["first_name"] == name })
	p.eventually(t, "/v1/clients/c_tr2", func(m map[string]any) bool { return m["first_name"] == name2 })
	starts2 := time.Now().Truncate(time.Second).Add(18 * time.Second)
	booked2 := event("tr-session2", "session.booked", now.Add(-time.Minute), map[string]any{
		"session_id": "s_tr2", "client_id": "c_tr2", "starts_at": starts2.Format(time.RFC3339), "location_kind": "in_person"})
	booked2["traceparent"] = "00-" + traceID2 + "-" + parent2 + "-01"
	if status, body := p.do(t, http.MethodPost, "/v1/events", []any{booked, booked2}); status != http.StatusAccepted {
		t.Fatalf("POST = %d %v", status, body)
	}

	var msgBodies []string
	outbox := func(to string) []string {
		_, out := p.do(t, http.MethodGet, "/v1/dev/outbox", nil)
		msgs, _ := out["messages"].([]any)
		var bodies []string
		for _, m := range msgs {
			if mm := m.(map[string]any); mm["to"] == to {
				b, _ := mm["body"].(string)
				bodies = append(bodies, b)
			}
		}
		return bodies
	}
	waitFor(t, time.Now().Add(30*time.Second), "the booking confirmation in the outbox", func() bool {
		msgBodies = outbox(phone)
		return len(msgBodies) > 0
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

	// The fake Twilio's signed status callback for that message reaches
	// the webhook, whose span links to the provider call.
	linksTo := func(s tracetest.SpanStub, sc trace.SpanContext) bool {
		for _, l := range s.Links {
			if l.SpanContext.TraceID() == sc.TraceID() && l.SpanContext.SpanID() == sc.SpanID() {
				return true
			}
		}
		return false
	}
	send := chain[len(chain)-1].SpanContext
	waitFor(t, time.Now().Add(15*time.Second), "the Twilio status webhook's span linked to the provider call", func() bool {
		for _, s := range exp.GetSpans() {
			if s.Name == "webhook POST /webhooks/twilio/status" && linksTo(s, send) {
				return true
			}
		}
		return false
	})

	// The second client's booking confirmation goes by email: SendGrid's
	// signed event webhook links to that send.
	waitFor(t, time.Now().Add(30*time.Second), "the SendGrid event webhook's span linked to the email send", func() bool {
		spans = exp.GetSpans()
		for _, send := range spans {
			if send.Name != "provider send email" || send.SpanContext.TraceID().String() != traceID2 {
				continue
			}
			for _, s := range spans {
				if s.Name == "webhook POST /webhooks/sendgrid/events" && linksTo(s, send.SpanContext) {
					return true
				}
			}
		}
		return false
	})

	// Its reminder fires from a JetStream message schedule 12 s after the
	// booking: the consumer span of the fired message starts its own
	// trace, linked to the booking's, and leads to the provider call.
	var fired *tracetest.SpanStub
	waitFor(t, starts2.Add(10*time.Second), "the fired reminder's deliver span linked to the booking's trace", func() bool {
		spans = exp.GetSpans()
		for i := range spans {
			s := &spans[i]
			if s.Name != "consume deliver" || s.SpanContext.TraceID().String() == traceID2 {
				continue
			}
			for _, l := range s.Links {
				if l.SpanContext.TraceID().String() != traceID2 {
					continue
				}
				for _, c := range spans {
					if c.Name == "provider send email" && c.Parent.SpanID() == s.SpanContext.SpanID() {
						fired = s
						return true
					}
				}
			}
		}
		return false
	})
	if fired.Parent.IsValid() {
		t.Errorf("the fired reminder's span has parent %s, want a new trace linked to the booking", fired.Parent.SpanID())
	}
	t.Logf("reminder span %q trace %s linked to %s", fired.Name, fired.SpanContext.TraceID(), fired.Links[0].SpanContext.TraceID())
	msgBodies = append(msgBodies, outbox(email2)...)
	if len(msgBodies) < 3 {
		t.Errorf("outbox: %d messages to the two clients, want the SMS confirmation and the email confirmation and reminder", len(msgBodies))
	}

	// No client data anywhere in any span.
	secrets := []string{phone, strings.TrimPrefix(phone, "+"), email, name, email2, name2}
	for _, b := range msgBodies {
		if b != "" {
			secrets = append(secrets, b)
		}
	}
	spans = exp.GetSpans()
	for _, s := range spans {
		var values []string
		for _, a := range s.Attributes {
			values = append(values, string(a.Key), a.Value.Emit())
		}
		for _, e := range s.Events {
			values = append(values, e.Name)
			for _, a := range e.Attributes {
				values = append(values, string(a.Key), a.Value.Emit())
			}
		}
		for _, l := range s.Links {
			for _, a := range l.Attributes {
				values = append(values, string(a.Key), a.Value.Emit())
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
