package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/vocab"
)

// The deliverer's Observer and the runner's and dead-letter consumer's
// hooks are satisfied by Metrics' methods.
var (
	_ consumers.Observer           = (*Metrics)(nil)
	_ func(string, string, uint64) = (*Metrics)(nil).ConsumerMessage
	_ func(string)                 = (*Metrics)(nil).DeadLettered
	_ func(string, string)         = (*Metrics)(nil).Event
)

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestExposition(t *testing.T) {
	m := New(Config{})
	m.Event("session.booked", EventAccepted)
	m.Event("session.booked", EventAccepted)
	m.Event("client.upserted", EventDuplicate)
	m.Event("session.exploded", EventRejected)
	m.Outcome("sms", "reminders", consumers.OutcomeSent, "")
	m.Outcome("email", "encouragement", consumers.OutcomeSkipped, string(vocab.SkipNoConsent))
	m.Outcome("sms", "reminders", consumers.OutcomeDeferred, "quiet_hours")
	m.Outcome("sms", "reminders", consumers.OutcomeFailed, "twilio:21211 The 'To' number +14155550123 is not a valid phone number.")
	m.Outcome("sms", "reminders", consumers.OutcomeRetry, "20429")
	m.ProviderCall("sms", 120*time.Millisecond, nil)
	m.ProviderCall("sms", 3*time.Second, &channel.ProviderError{Provider: "twilio", Class: channel.Transient, Status: 429, Code: "20429", RetryAfter: time.Second})
	m.ProviderCall("email", 40*time.Millisecond, &channel.ProviderError{Provider: "sendgrid", Class: channel.Permanent, Status: 400, Code: "400"})
	m.ConsumerMessage("deliver", MessageAck, 1)
	m.ConsumerMessage("deliver", MessageAck, 3)
	m.ConsumerMessage("ingest", MessageRetry, 2)
	m.ConsumerMessage("ingest", MessageTerm, 1)
	m.DeadLettered("NUDGE_NOTIFY")

	body := scrape(t, m.Handler())
	for _, want := range []string{
		`nudge_events_total{result="accepted",type="session.booked"} 2`,
		`nudge_events_total{result="duplicate",type="client.upserted"} 1`,
		`nudge_events_total{result="rejected",type="other"} 1`,
		`nudge_notifications_total{channel="sms",outcome="sent",purpose="reminders",reason="none"} 1`,
		`nudge_notifications_total{channel="email",outcome="skipped",purpose="encouragement",reason="no_consent"} 1`,
		`nudge_notifications_total{channel="sms",outcome="deferred",purpose="reminders",reason="quiet_hours"} 1`,
		`nudge_notifications_total{channel="sms",outcome="failed",purpose="reminders",reason="21211"} 1`,
		`nudge_notifications_total{channel="sms",outcome="retry",purpose="reminders",reason="20429"} 1`,
		`nudge_provider_request_duration_seconds_count{channel="sms",result="ok"} 1`,
		`nudge_provider_request_duration_seconds_bucket{channel="sms",result="ok",le="0.25"} 1`,
		`nudge_provider_request_duration_seconds_count{channel="sms",result="rate_limited"} 1`,
		`nudge_provider_request_duration_seconds_count{channel="email",result="permanent"} 1`,
		`nudge_consumer_messages_total{consumer="deliver",result="ack"} 2`,
		`nudge_consumer_messages_total{consumer="ingest",result="retry"} 1`,
		`nudge_consumer_messages_total{consumer="ingest",result="term"} 1`,
		`nudge_consumer_redeliveries_total{consumer="deliver"} 1`,
		`nudge_consumer_redeliveries_total{consumer="ingest"} 1`,
		`nudge_dead_letters_total{stream="NUDGE_NOTIFY"} 1`,
		"# TYPE nudge_provider_request_duration_seconds histogram",
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if strings.Contains(body, "4155550123") || strings.Contains(body, "valid phone") {
		t.Errorf("exposition carries provider text:\n%s", body)
	}
}

// Label values come from bounded sets, whatever callers pass: no client
// id, phone number or email can become a series.
func TestLabelsAreBounded(t *testing.T) {
	m := New(Config{})
	hostile := []string{"+14155550123", "jane@example.com", "client-7f3a", "", strings.Repeat("x", 200), "a b", "sms\n"}
	for _, s := range hostile {
		m.Event(s, s)
		m.Outcome(vocab.Channel(s), vocab.Purpose(s), s, s)
		m.ProviderCall(vocab.Channel(s), time.Millisecond, errors.New(s))
		m.ConsumerMessage(s, s, 2)
		m.DeadLettered(s)
	}
	body := scrape(t, m.Handler())
	for _, leak := range []string{"4155550123", "jane", "example.com", "client-7f3a", "xxxx", "a b"} {
		if strings.Contains(body, leak) {
			t.Errorf("exposition contains %q", leak)
		}
	}
	want := fmt.Sprintf(`nudge_notifications_total{channel="other",outcome="other",purpose="other",reason="other"} %d`, len(hostile)-1)
	if !strings.Contains(body, want) {
		t.Errorf("exposition lacks %q:\n%s", want, body)
	}
}

func TestReason(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "none",
		string(vocab.SkipOptedOut): "opted_out",
		"cadence_daily_cap":        "cadence_daily_cap",
		"sent":                     "sent",
		"recipient_unsubscribed":   "recipient_unsubscribed",
		"20429":                    "20429",
		"429":                      "429",
		"twilio:21610 Attempt to send to unsubscribed recipient": "21610",
		"sendgrid:400 The to email j***@example.com is invalid":  "400",
		"twilio: request timed out":                              "provider_error",
		": request failed":                                       "provider_error",
		"template: missing variable FirstName":                   "template_error",
		"+14155550123":                                           Other,
		"jane@example.com":                                       Other,
		"12":                                                     Other,
		"1234567":                                                Other,
		"something new":                                          Other,
	} {
		if got := Reason(in); got != want {
			t.Errorf("Reason(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPendingTimeoutBoundsScrape(t *testing.T) {
	m := New(Config{
		PendingTimeout: 100 * time.Millisecond,
		Pending: func(ctx context.Context) []ConsumerBacklog {
			<-ctx.Done()
			return []ConsumerBacklog{{ConsumerRef: ConsumerRef{"NUDGE_EVENTS", "ingest"}, Err: ctx.Err()}}
		},
	})
	m.DeadLettered("NUDGE_EVENTS")
	start := time.Now()
	body := scrape(t, m.Handler())
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("scrape took %v with a 100ms pending timeout", d)
	}
	if !strings.Contains(body, `nudge_dead_letters_total{stream="NUDGE_EVENTS"} 1`) {
		t.Errorf("a failing backlog read hid the other metrics:\n%s", body)
	}
	if strings.Contains(body, "nudge_consumer_pending{") {
		t.Errorf("backlog series served although reading it failed")
	}
}
