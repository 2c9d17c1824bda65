package channel_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"

	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/channel/channeltest"
	"github.com/nudgehq/nudge/internal/fakeprovider"
)

const practiceEmail = "care@harbor.example"

type sendGridEnv struct {
	fake   *fakeprovider.SendGrid
	api    *httptest.Server
	config channel.SendGridConfig
}

func newSendGridEnv(t *testing.T, fakeCfg fakeprovider.SendGridConfig) *sendGridEnv {
	t.Helper()
	e := &sendGridEnv{fake: fakeprovider.NewSendGrid(fakeCfg)}
	e.api = httptest.NewServer(e.fake)
	t.Cleanup(func() { e.fake.Close(); e.api.Close() })
	e.config = channel.SendGridConfig{
		APIKey: e.fake.APIKey(), FromEmail: practiceEmail, FromName: "Harbor Therapy", BaseURL: e.api.URL,
	}
	return e
}

func (e *sendGridEnv) sender(t *testing.T) *channel.SendGridSender {
	t.Helper()
	s, err := channel.NewSendGrid(e.config)
	if err != nil {
		t.Fatalf("NewSendGrid: %v", err)
	}
	return s
}

func TestSendGridConformance(t *testing.T) {
	channeltest.Run(t, func(t *testing.T) (channel.Sender, *channeltest.Controls) {
		e := newSendGridEnv(t, fakeprovider.SendGridConfig{})
		fake := e.fake
		return e.sender(t), &channeltest.Controls{
			Recipient:        func(i int) string { return fmt.Sprintf("client%d@example.com", i) },
			InvalidRecipient: "not-an-email",
			Sent: func() []channeltest.Sent {
				var out []channeltest.Sent
				for _, m := range fake.Messages() {
					out = append(out, channeltest.Sent{
						ProviderID: m.ID, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
						DeliveryRef: m.CustomArgs["delivery_id"],
					})
				}
				return out
			},
			CheckRequest: func(t *testing.T, m channel.Message, s channeltest.Sent) {
				// Exactly the JSON SendGrid receives: custom_args carries the
				// opaque delivery id and nothing else; no categories, no
				// names, no other identifiers.
				var got map[string]any
				if err := json.Unmarshal(fake.Messages()[0].JSON, &got); err != nil {
					t.Fatal(err)
				}
				want := map[string]any{
					"from":    map[string]any{"email": practiceEmail, "name": "Harbor Therapy"},
					"subject": m.Subject,
					"personalizations": []any{
						map[string]any{"to": []any{map[string]any{"email": m.To}}},
					},
					"content": []any{
						map[string]any{"type": "text/plain", "value": m.Text},
						map[string]any{"type": "text/html", "value": m.HTML},
					},
					"custom_args": map[string]any{"delivery_id": m.DeliveryID},
				}
				if !reflect.DeepEqual(got, want) {
					g, _ := json.MarshalIndent(got, "", "  ")
					w, _ := json.MarshalIndent(want, "", "  ")
					t.Fatalf("SendGrid received\n%s\nwant\n%s", g, w)
				}
			},
			BreakCredentials: func() { fake.SetAPIKeys("SG.rotated.key") },
			RateLimitNext:    func(d time.Duration) { fake.FailNext(1, fakeprovider.RateLimited(d)) },
			ServerErrorNext:  func(status int) { fake.FailNext(1, fakeprovider.ServerError(status)) },
			HangNext:         func() { fake.FailNext(1, fakeprovider.Timeout()) },
			LoseResponseNext: func() { fake.FailNext(1, fakeprovider.LostResponse()) },
			RevokeNext:       nil, // unsubscribes arrive as events, never as a send error
		}
	})
}

func emailMessage(id, to string) channel.Message {
	return channel.Message{DeliveryID: id, To: to, Subject: "A note from Harbor Therapy", Text: "Hi Sam", HTML: "<p>Hi Sam</p>"}
}

func TestSendGridErrorClassification(t *testing.T) {
	e := newSendGridEnv(t, fakeprovider.SendGridConfig{})
	s := e.sender(t)
	ctx := context.Background()
	for _, tc := range []struct {
		status int
		class  channel.Class
	}{
		{400, channel.Permanent},
		{403, channel.Permanent},
		{413, channel.Permanent},
		{500, channel.Transient},
		{503, channel.Transient},
	} {
		e.fake.FailNext(1, fakeprovider.SendGridError(tc.status, "injected"))
		_, err := s.Send(ctx, emailMessage("d1", "sam@example.com"))
		pe := channel.Classify(err)
		if pe == nil || pe.Class != tc.class || pe.Status != tc.status || pe.Code != fmt.Sprint(tc.status) || pe.Provider != "sendgrid" {
			t.Errorf("%d: %+v, want %s", tc.status, pe, tc.class)
		}
		if tc.status == 403 && !errors.Is(err, channel.ErrUnauthorized) {
			t.Errorf("403 is not ErrUnauthorized")
		}
	}

	// SendGrid's field errors come through, with the address masked.
	_, err := s.Send(ctx, emailMessage("d1", "sam.smith@example"))
	pe := channel.Classify(err)
	if pe.Class != channel.Permanent || !strings.Contains(pe.Message, "personalizations.0.to.0.email: Does not contain a valid address.") {
		t.Fatalf("400: %+v", pe)
	}

	e.fake.FailNext(1, fakeprovider.RateLimited(5*time.Second))
	_, err = s.Send(ctx, emailMessage("d1", "sam@example.com"))
	if pe := channel.Classify(err); pe.RetryAfter < 4*time.Second || pe.RetryAfter > 6*time.Second {
		t.Fatalf("RetryAfter from X-RateLimit-Reset: %v", pe.RetryAfter)
	}
}

func TestSendGridLookupBeforeActivityIndex(t *testing.T) {
	// The Email Activity API lags behind sends: right after a send, Lookup
	// honestly reports not found (see SendGridSender).
	e := newSendGridEnv(t, fakeprovider.SendGridConfig{ActivityLag: time.Hour})
	s := e.sender(t)
	m := emailMessage("dlv-1", "sam@example.com")
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = e.fake.Wait(ctx)
	if _, found, err := s.Lookup(context.Background(), m, time.Now()); err != nil || found {
		t.Fatalf("found=%v err=%v before the activity index caught up", found, err)
	}
}

func TestSendGridLookupNeedsActivityAccess(t *testing.T) {
	e := newSendGridEnv(t, fakeprovider.SendGridConfig{})
	s := e.sender(t)
	e.fake.FailNext(1, fakeprovider.SendGridError(403, "access forbidden"))
	_, _, err := s.Lookup(context.Background(), emailMessage("dlv-1", "sam@example.com"), time.Now())
	if pe := channel.Classify(err); pe.Class != channel.Permanent || !errors.Is(err, channel.ErrUnauthorized) {
		t.Fatalf("Lookup without activity access: %+v", pe)
	}
}

func TestSendGridEventsCarryOnlyDeliveryID(t *testing.T) {
	sink := &eventSink{}
	hooks := httptest.NewServer(sink)
	defer hooks.Close()
	e := newSendGridEnv(t, fakeprovider.SendGridConfig{EventWebhookURL: hooks.URL})
	if err := e.fake.SetOutcome("sam@example.com", "unsubscribe"); err != nil {
		t.Fatal(err)
	}
	r, err := e.sender(t).Send(context.Background(), emailMessage("dlv-9", "sam@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.fake.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	key, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(e.fake.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range sink.all() {
		if ok, err := eventwebhook.VerifySignature(key, c.body, c.signature, c.timestamp); !ok || err != nil {
			t.Fatalf("event signature: %v %v", ok, err)
		}
		var events []map[string]any
		if err := json.Unmarshal(c.body, &events); err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if ev["delivery_id"] != "dlv-9" || !strings.HasPrefix(ev["sg_message_id"].(string), r.ProviderID+".") {
				t.Fatalf("event %v", ev)
			}
			names = append(names, ev["event"].(string))
		}
	}
	if got := strings.Join(names, ","); got != "processed,delivered,unsubscribe" {
		t.Fatalf("events %s", got)
	}
}

func TestSendGridConfigValidation(t *testing.T) {
	ok := channel.SendGridConfig{APIKey: "SG.x.y", FromEmail: practiceEmail}
	for field, mutate := range map[string]func(*channel.SendGridConfig){
		"APIKey":      func(c *channel.SendGridConfig) { c.APIKey = "" },
		"FromEmail":   func(c *channel.SendGridConfig) { c.FromEmail = "Harbor <care@harbor.example>" },
		"BaseURL":     func(c *channel.SendGridConfig) { c.BaseURL = "localhost:8080" },
		"HTTPTimeout": func(c *channel.SendGridConfig) { c.HTTPTimeout = -time.Second },
	} {
		cfg := ok
		mutate(&cfg)
		if _, err := channel.NewSendGrid(cfg); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v does not name the field", field, err)
		}
	}
}

// eventSink stands in for nudge's SendGrid event webhook endpoint.
type eventSink struct {
	mu    sync.Mutex
	calls []eventCall
}

type eventCall struct {
	body                 []byte
	signature, timestamp string
}

func (s *eventSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, eventCall{body, r.Header.Get(eventwebhook.VerificationHTTPHeader), r.Header.Get(eventwebhook.TimestampHTTPHeader)})
}

func (s *eventSink) all() []eventCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}
