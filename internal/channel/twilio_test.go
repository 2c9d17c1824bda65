package channel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"

	"github.com/nudgehq/nudge/internal/channel"
	"github.com/nudgehq/nudge/internal/channel/channeltest"
	"github.com/nudgehq/nudge/internal/fakeprovider"
)

const practiceNumber = "+14155550199"

// callbackSink stands in for nudge's status-callback endpoint.
type callbackSink struct {
	mu    sync.Mutex
	calls []sinkCall
}

type sinkCall struct {
	url       string
	body      []byte
	signature string
}

func (s *callbackSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, sinkCall{"http://" + r.Host + r.URL.RequestURI(), body, r.Header.Get("X-Twilio-Signature")})
}

func (s *callbackSink) all() []sinkCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

type twilioEnv struct {
	fake   *fakeprovider.Twilio
	api    *httptest.Server
	sink   *callbackSink
	hooks  *httptest.Server
	config channel.TwilioConfig
}

func newTwilioEnv(t *testing.T, fakeCfg fakeprovider.TwilioConfig) *twilioEnv {
	t.Helper()
	e := &twilioEnv{fake: fakeprovider.NewTwilio(fakeCfg), sink: &callbackSink{}}
	e.api = httptest.NewServer(e.fake)
	e.hooks = httptest.NewServer(e.sink)
	t.Cleanup(func() { e.fake.Close(); e.api.Close(); e.hooks.Close() })
	e.config = channel.TwilioConfig{
		AccountSid:        e.fake.AccountSid(),
		AuthToken:         e.fake.AuthToken(),
		From:              practiceNumber,
		StatusCallbackURL: e.hooks.URL + "/webhooks/twilio/status",
		BaseURL:           e.api.URL,
	}
	return e
}

func (e *twilioEnv) sender(t *testing.T, mutate ...func(*channel.TwilioConfig)) *channel.TwilioSender {
	t.Helper()
	cfg := e.config
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := channel.NewTwilio(cfg)
	if err != nil {
		t.Fatalf("NewTwilio: %v", err)
	}
	return s
}

func (e *twilioEnv) outbound() []fakeprovider.CapturedMessage {
	var out []fakeprovider.CapturedMessage
	for _, m := range e.fake.Messages() {
		if m.Direction == "outbound-api" {
			out = append(out, m)
		}
	}
	return out
}

func TestTwilioConformance(t *testing.T) {
	channeltest.Run(t, func(t *testing.T) (channel.Sender, *channeltest.Controls) {
		e := newTwilioEnv(t, fakeprovider.TwilioConfig{Numbers: []string{practiceNumber}})
		fake := e.fake
		return e.sender(t), &channeltest.Controls{
			Recipient:        func(i int) string { return fmt.Sprintf("+1415555%04d", 1000+i) },
			InvalidRecipient: "415-555-0100",
			Sent: func() []channeltest.Sent {
				var out []channeltest.Sent
				for _, m := range e.outbound() {
					cb, _ := url.Parse(m.StatusCallback)
					out = append(out, channeltest.Sent{ProviderID: m.ID, To: m.To, Text: m.Body, DeliveryRef: cb.Query().Get("d")})
				}
				return out
			},
			CheckRequest: func(t *testing.T, m channel.Message, s channeltest.Sent) {
				// Exactly the form Twilio receives: nothing but recipient,
				// sender, body and the callback carrying the opaque id.
				want := url.Values{
					"To":             {m.To},
					"From":           {practiceNumber},
					"Body":           {m.Text},
					"StatusCallback": {e.hooks.URL + "/webhooks/twilio/status?d=" + m.DeliveryID},
				}
				got := e.outbound()[0].Form
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("Twilio received form\n%v\nwant\n%v", got, want)
				}
			},
			BreakCredentials: func() { fake.SetAuthToken("rotatedtoken0") },
			RateLimitNext:    func(d time.Duration) { fake.FailNext(1, fakeprovider.RateLimited(d)) },
			ServerErrorNext:  func(status int) { fake.FailNext(1, fakeprovider.ServerError(status)) },
			HangNext:         func() { fake.FailNext(1, fakeprovider.Timeout()) },
			LoseResponseNext: func() { fake.FailNext(1, fakeprovider.LostResponse()) },
			RevokeNext:       func() { fake.FailNext(1, fakeprovider.TwilioError(21610)) },
		}
	})
}

func smsMessage(id, to, text string) channel.Message {
	return channel.Message{DeliveryID: id, To: to, Text: text}
}

func TestTwilioErrorClassification(t *testing.T) {
	e := newTwilioEnv(t, fakeprovider.TwilioConfig{})
	s := e.sender(t)
	ctx := context.Background()
	for _, tc := range []struct {
		code  int
		class channel.Class
	}{
		{21610, channel.RevokeConsent},
		{21211, channel.Permanent},
		{21614, channel.Permanent},
		{21408, channel.Permanent},
		{21612, channel.Permanent},
		{21606, channel.Permanent},
	} {
		e.fake.FailNext(1, fakeprovider.TwilioError(tc.code))
		_, err := s.Send(ctx, smsMessage("d1", "+14155550100", "hi"))
		pe := channel.Classify(err)
		if pe == nil || pe.Class != tc.class || pe.Code != fmt.Sprint(tc.code) || pe.Status != 400 || pe.Provider != "twilio" {
			t.Errorf("code %d: %+v, want %s", tc.code, pe, tc.class)
		}
	}

	// The provider's message names the recipient; ProviderError masks it.
	_, err := s.Send(ctx, smsMessage("d1", "+14155550123456789", "hi"))
	pe := channel.Classify(err)
	if pe.Code != "21211" || strings.Contains(pe.Error(), "4155550123") || !strings.Contains(pe.Message, "+***************89") {
		t.Fatalf("unmasked recipient: %q", pe.Error())
	}

	// 429 without a usable hint still carries a RetryAfter.
	e.fake.FailNext(1, fakeprovider.Failure{Status: 429})
	_, err = s.Send(ctx, smsMessage("d1", "+14155550100", "hi"))
	if pe := channel.Classify(err); pe.Class != channel.Transient || pe.RetryAfter != time.Second || pe.Code != "20429" {
		t.Fatalf("429 without Retry-After: %+v", pe)
	}
}

func TestTwilioNonJSONErrorBody(t *testing.T) {
	// A proxy in front of Twilio answering 502 with an HTML page.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html>Bad Gateway</html>")
	}))
	defer proxy.Close()
	s, err := channel.NewTwilio(channel.TwilioConfig{AccountSid: "AC123", AuthToken: "tok", From: practiceNumber, BaseURL: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), smsMessage("d1", "+14155550100", "hi"))
	if pe := channel.Classify(err); pe.Class != channel.Transient || pe.Status != 502 || !pe.MaybeSent {
		t.Fatalf("502 HTML: %+v", pe)
	}
}

func TestTwilioAPIKeyAndMessagingService(t *testing.T) {
	msid := "MG" + strings.Repeat("0a", 16)
	e := newTwilioEnv(t, fakeprovider.TwilioConfig{APIKeys: map[string]string{"SK42": "keysecret"}})
	s := e.sender(t, func(c *channel.TwilioConfig) {
		c.AuthToken, c.APIKeySid, c.APIKeySecret = "", "SK42", "keysecret"
		c.From, c.MessagingServiceSid = "", msid
	})
	m := smsMessage("dlv-1", "+14155550100", "Hi Sam")
	since := time.Now()
	r, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "accepted" {
		t.Fatalf("receipt %+v, want accepted", r)
	}
	form := e.outbound()[0].Form
	if form.Get("MessagingServiceSid") != msid || form.Has("From") {
		t.Fatalf("form %v", form)
	}
	got, found, err := s.Lookup(context.Background(), m, since)
	if err != nil || !found || got.ProviderID != r.ProviderID {
		t.Fatalf("Lookup: %+v %v %v", got, found, err)
	}
}

func TestTwilioStatusCallbackCarriesDeliveryID(t *testing.T) {
	e := newTwilioEnv(t, fakeprovider.TwilioConfig{})
	s := e.sender(t)
	r, err := s.Send(context.Background(), smsMessage("dlv-7", "+14155550100", "Hi Sam"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.fake.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	validator := client.NewRequestValidator(e.fake.AuthToken())
	var statuses []string
	for _, c := range e.sink.all() {
		u, _ := url.Parse(c.url)
		form, _ := url.ParseQuery(string(c.body))
		if u.Query().Get("d") != "dlv-7" || form.Get("MessageSid") != r.ProviderID {
			t.Fatalf("callback %s %v", c.url, form)
		}
		if !validator.ValidateBody(c.url, c.body, c.signature) {
			t.Fatalf("callback signature does not validate")
		}
		statuses = append(statuses, form.Get("MessageStatus"))
	}
	if strings.Join(statuses, ",") != "sent,delivered" {
		t.Fatalf("statuses %v", statuses)
	}
}

func TestTwilioLookup(t *testing.T) {
	// Messages stay queued (date_sent null) for the whole test: Lookup
	// must still find them.
	e := newTwilioEnv(t, fakeprovider.TwilioConfig{StatusDelay: time.Hour})
	s := e.sender(t)
	ctx := context.Background()
	since := time.Now()
	to := "+14155550100"

	first := smsMessage("dlv-first", to, "Hi Sam, a gentle reminder: your session is tomorrow at 3pm.")
	r, err := s.Send(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	// Enough later messages to the same number that the first is on the
	// second page: Lookup follows next_page_uri through the BaseURL.
	for i := range 60 {
		if _, err := s.Send(ctx, smsMessage(fmt.Sprintf("dlv-%d", i), to, fmt.Sprintf("note %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	got, found, err := s.Lookup(ctx, first, since)
	if err != nil || !found || got.ProviderID != r.ProviderID || got.Status != "queued" {
		t.Fatalf("Lookup: %+v found=%v err=%v", got, found, err)
	}

	// A message created well before since is a different, older delivery.
	if _, found, _ := s.Lookup(ctx, first, time.Now().Add(time.Hour)); found {
		t.Fatal("Lookup matched a message older than since")
	}
	// Another sender's message to the same number does not count.
	other := e.sender(t, func(c *channel.TwilioConfig) { c.From = "+14155550198" })
	if _, found, _ := other.Lookup(ctx, first, since); found {
		t.Fatal("Lookup matched a message from another number")
	}
}

func TestTwilioLookupToleratesSmartEncoding(t *testing.T) {
	e := newTwilioEnv(t, fakeprovider.TwilioConfig{})
	s := e.sender(t)
	since := time.Now()
	// What a Messaging Service with Smart Encoding stores for a curly text.
	form := url.Values{"To": {"+14155550100"}, "From": {practiceNumber}, "Body": {`It's "fine" - really...`}}
	req, _ := http.NewRequest(http.MethodPost, e.api.URL+"/2010-04-01/Accounts/"+e.fake.AccountSid()+"/Messages.json", strings.NewReader(form.Encode()))
	req.SetBasicAuth(e.fake.AccountSid(), e.fake.AuthToken())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, found, err := s.Lookup(context.Background(), smsMessage("d", "+14155550100", "It\u2019s \u201Cfine\u201D \u2013 really\u2026"), since)
	if err != nil || !found {
		t.Fatalf("Lookup across smart encoding: found=%v err=%v", found, err)
	}
}

func TestTwilioBaseURLWithPrefix(t *testing.T) {
	fake := fakeprovider.NewTwilio(fakeprovider.TwilioConfig{})
	defer fake.Close()
	mux := http.NewServeMux()
	mux.Handle("/_dev/twilio/", http.StripPrefix("/_dev/twilio", fake))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s, err := channel.NewTwilio(channel.TwilioConfig{
		AccountSid: fake.AccountSid(), AuthToken: fake.AuthToken(), From: practiceNumber,
		BaseURL: srv.URL + "/_dev/twilio/",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := smsMessage("d1", "+14155550100", "hi")
	since := time.Now()
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.Lookup(context.Background(), m, since); err != nil || !found {
		t.Fatalf("Lookup under a prefix: %v %v", found, err)
	}
}

func TestTwilioConfigValidation(t *testing.T) {
	ok := channel.TwilioConfig{AccountSid: "AC1", AuthToken: "tok", From: practiceNumber}
	for field, mutate := range map[string]func(*channel.TwilioConfig){
		"AccountSid":                  func(c *channel.TwilioConfig) { c.AccountSid = "" },
		"AuthToken":                   func(c *channel.TwilioConfig) { c.AuthToken = "" },
		"MessagingServiceSid or From": func(c *channel.TwilioConfig) { c.From = "" },
		"StatusCallbackURL":           func(c *channel.TwilioConfig) { c.StatusCallbackURL = "/relative" },
		"BaseURL":                     func(c *channel.TwilioConfig) { c.BaseURL = "api.twilio.com" },
		"HTTPTimeout":                 func(c *channel.TwilioConfig) { c.HTTPTimeout = -1 },
	} {
		cfg := ok
		mutate(&cfg)
		if _, err := channel.NewTwilio(cfg); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v does not name the field", field, err)
		}
	}
	if _, err := channel.NewTwilio(ok); err != nil {
		t.Fatal(err)
	}
}

func TestTwilioConnectionRefusedIsNotMaybeSent(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	s, err := channel.NewTwilio(channel.TwilioConfig{AccountSid: "AC1", AuthToken: "tok", From: practiceNumber, BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), smsMessage("d1", "+14155550100", "hi"))
	pe := channel.Classify(err)
	if pe.Class != channel.Transient || pe.MaybeSent || pe.Status != 0 {
		t.Fatalf("connection refused: %+v", pe)
	}
	if errors.Is(err, channel.ErrUnauthorized) {
		t.Fatal("connection refused reported as unauthorized")
	}
}
