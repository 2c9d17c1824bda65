package fakeprovider_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/nudgehq/nudge/internal/fakeprovider"
)

// rewrite sends every request to base instead of its own host, so the
// unmodified SDK talks to the fake.
type rewrite struct{ base *url.URL }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = rw.base.Scheme, rw.base.Host
	return http.DefaultTransport.RoundTrip(r)
}

func startTwilio(t *testing.T, cfg fakeprovider.TwilioConfig) (*fakeprovider.Twilio, *httptest.Server) {
	t.Helper()
	fake := fakeprovider.NewTwilio(cfg)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	return fake, srv
}

// twilioAPI is the SDK's Messages API authenticated as user:pass.
func twilioAPI(t *testing.T, srv *httptest.Server, account, user, pass string, timeout time.Duration) *openapi.ApiService {
	t.Helper()
	base, _ := url.Parse(srv.URL)
	c := &client.Client{
		Credentials: client.NewCredentials(user, pass),
		HTTPClient:  &http.Client{Transport: rewrite{base}, Timeout: timeout},
	}
	c.SetAccountSid(account)
	return openapi.NewApiServiceWithClient(c)
}

func send(api *openapi.ApiService, to, from, body, callback string) (*openapi.ApiV2010Message, error) {
	p := &openapi.CreateMessageParams{}
	p.SetTo(to)
	p.SetFrom(from)
	p.SetBody(body)
	if callback != "" {
		p.SetStatusCallback(callback)
	}
	return api.CreateMessage(p)
}

func wait(t *testing.T, w interface{ Wait(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Wait(ctx); err != nil {
		t.Fatalf("waiting for webhooks: %v", err)
	}
}

func restError(t *testing.T, err error) *client.TwilioRestError {
	t.Helper()
	var re *client.TwilioRestError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v (%T), want *client.TwilioRestError", err, err)
	}
	return re
}

var smSid = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

func TestTwilioCreateFetchList(t *testing.T) {
	fake, srv := startTwilio(t, fakeprovider.TwilioConfig{})
	api := twilioAPI(t, srv, fake.AccountSid(), fake.AccountSid(), fake.AuthToken(), 5*time.Second)

	msg, err := send(api, "+14155550100", "+14155550199", "Hi Sam, see you Tuesday at 3pm.", "")
	if err != nil {
		t.Fatalf("CreateMessage: %v", err)
	}
	if !smSid.MatchString(*msg.Sid) || *msg.Status != "queued" || *msg.To != "+14155550100" ||
		*msg.From != "+14155550199" || *msg.NumSegments != "1" || *msg.Direction != "outbound-api" ||
		*msg.AccountSid != fake.AccountSid() || msg.DateSent != nil {
		t.Fatalf("unexpected message resource: %+v", msg)
	}
	if _, err := time.Parse(time.RFC1123Z, *msg.DateCreated); err != nil {
		t.Fatalf("date_created %q is not RFC 2822: %v", *msg.DateCreated, err)
	}

	wait(t, fake)
	fp := &openapi.FetchMessageParams{}
	got, err := api.FetchMessage(*msg.Sid, fp)
	if err != nil {
		t.Fatalf("FetchMessage: %v", err)
	}
	if *got.Status != "delivered" || got.DateSent == nil || *got.Body != *msg.Body {
		t.Fatalf("fetched %+v, want delivered with date_sent", got)
	}
	_, err = api.FetchMessage("SM"+strings.Repeat("0", 32), fp)
	if re := restError(t, err); re.Status != 404 || re.Code != 20404 {
		t.Fatalf("fetch unknown: %+v", re)
	}

	// Paging: 5 more messages to one number, listed 2 per page; the SDK
	// follows next_page_uri.
	for range 5 {
		if _, err := send(api, "+14155550101", "+14155550199", "again", ""); err != nil {
			t.Fatal(err)
		}
	}
	lp := &openapi.ListMessageParams{}
	lp.SetTo("+14155550101")
	lp.SetPageSize(2)
	all, err := api.ListMessage(lp)
	if err != nil {
		t.Fatalf("ListMessage: %v", err)
	}
	if len(all) != 5 {
		t.Fatalf("listed %d messages, want 5", len(all))
	}
	seen := map[string]bool{}
	for _, m := range all {
		if *m.To != "+14155550101" || seen[*m.Sid] {
			t.Fatalf("bad or duplicate listing %+v", m)
		}
		seen[*m.Sid] = true
	}
	page, err := api.PageMessage(lp, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if page.PageSize != 2 || page.NextPageUri == nil || len(page.Messages) != 2 ||
		!strings.HasPrefix(*page.NextPageUri, "/2010-04-01/Accounts/"+fake.AccountSid()+"/Messages.json?") {
		t.Fatalf("unexpected first page: %+v", page)
	}

	// DateSent> compares with date_sent: the delivered messages are found,
	// a window in the future finds none.
	wait(t, fake)
	lp = &openapi.ListMessageParams{}
	lp.SetTo("+14155550101")
	lp.SetDateSentAfter(time.Now().Add(-time.Minute))
	if all, err = api.ListMessage(lp); err != nil || len(all) != 5 {
		t.Fatalf("DateSent> past: %d messages, err %v", len(all), err)
	}
	lp.SetDateSentAfter(time.Now().Add(time.Hour))
	if all, err = api.ListMessage(lp); err != nil || len(all) != 0 {
		t.Fatalf("DateSent> future: %d messages, err %v", len(all), err)
	}
}

func TestTwilioAuthentication(t *testing.T) {
	fake, srv := startTwilio(t, fakeprovider.TwilioConfig{APIKeys: map[string]string{"SK0123": "keysecret"}})
	account := fake.AccountSid()

	_, err := send(twilioAPI(t, srv, account, account, "wrongtoken", 5*time.Second), "+14155550100", "+14155550199", "x", "")
	if re := restError(t, err); re.Status != 401 || re.Code != 20003 || re.Message != "Authenticate" ||
		re.MoreInfo != "https://www.twilio.com/docs/errors/20003" {
		t.Fatalf("bad credentials: %+v", re)
	}
	if _, err := send(twilioAPI(t, srv, account, "SK0123", "keysecret", 5*time.Second), "+14155550100", "+14155550199", "x", ""); err != nil {
		t.Fatalf("API key auth: %v", err)
	}

	// The exact body Twilio sends.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/2010-04-01/Accounts/"+account+"/Messages.json", strings.NewReader("To=%2B14155550100"))
	req.SetBasicAuth(account, "nope")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`
	if resp.StatusCode != 401 || strings.TrimSpace(string(body)) != want {
		t.Fatalf("401 body = %d %s, want %s", resp.StatusCode, body, want)
	}

	// Rotating the token locks out the old one.
	old := fake.AuthToken()
	fake.SetAuthToken("rotated0token")
	if _, err := send(twilioAPI(t, srv, account, account, old, 5*time.Second), "+14155550100", "+14155550199", "x", ""); restError(t, err).Code != 20003 {
		t.Fatalf("old token still works")
	}
}

func postForm(t *testing.T, srv *httptest.Server, fake *fakeprovider.Twilio, form url.Values) (int, fakeprovider.TwilioErrorBody) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/2010-04-01/Accounts/"+fake.AccountSid()+"/Messages.json", strings.NewReader(form.Encode()))
	req.SetBasicAuth(fake.AccountSid(), fake.AuthToken())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e fakeprovider.TwilioErrorBody
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e
}

func TestTwilioValidation(t *testing.T) {
	fake, srv := startTwilio(t, fakeprovider.TwilioConfig{Numbers: []string{"+14155550199"}})
	ok := url.Values{"To": {"+14155550100"}, "From": {"+14155550199"}, "Body": {"hello"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		code   int
	}{
		{"ok", ok, 201, 0},
		{"missing To", with("To", ""), 400, 21604},
		{"To not E.164", with("To", "4155550100"), 400, 21211},
		{"no From or MessagingServiceSid", with("From", ""), 400, 21603},
		{"empty Body", with("Body", ""), 400, 21602},
		{"From not owned", with("From", "+14155550198"), 400, 21606},
		{"bad From", with("From", "not a number!"), 400, 21212},
		{"bad StatusCallback", with("StatusCallback", "ftp://x"), 400, 21609},
		{"body too long", with("Body", strings.Repeat("a", 1601)), 400, 21617},
		{"magic invalid To", with("To", "+15005550001"), 400, 21211},
		{"magic unreachable", with("To", "+15005550002"), 400, 21612},
		{"magic no permission", with("To", "+15005550003"), 400, 21408},
		{"magic blocked", with("To", "+15005550004"), 400, 21610},
		{"magic not mobile", with("To", "+15005550009"), 400, 21614},
		{"bad MessagingServiceSid", url.Values{"To": {"+14155550100"}, "MessagingServiceSid": {"MG1"}, "Body": {"x"}}, 400, 21701},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, e := postForm(t, srv, fake, tc.form)
			if status != tc.status || e.Code != tc.code {
				t.Fatalf("got %d code %d (%s), want %d code %d", status, e.Code, e.Message, tc.status, tc.code)
			}
			if tc.code != 0 && (e.Status != tc.status || e.MoreInfo == "" || e.Message == "") {
				t.Fatalf("incomplete error body %+v", e)
			}
		})
	}
}

func TestTwilioMessagingService(t *testing.T) {
	fake, srv := startTwilio(t, fakeprovider.TwilioConfig{})
	api := twilioAPI(t, srv, fake.AccountSid(), fake.AccountSid(), fake.AuthToken(), 5*time.Second)
	p := &openapi.CreateMessageParams{}
	p.SetTo("+14155550100")
	p.SetMessagingServiceSid("MG" + strings.Repeat("a", 32))
	p.SetBody("hello")
	msg, err := api.CreateMessage(p)
	if err != nil {
		t.Fatal(err)
	}
	if *msg.Status != "accepted" || msg.From != nil || *msg.MessagingServiceSid != "MG"+strings.Repeat("a", 32) {
		t.Fatalf("unexpected resource %+v", msg)
	}
	wait(t, fake)
	if m := fake.Messages()[0]; m.From != "+15005550006" || m.Status != "delivered" {
		t.Fatalf("after delivery: %+v", m)
	}
}

func TestTwilioFailureInjection(t *testing.T) {
	fake, srv := startTwilio(t, fakeprovider.TwilioConfig{})
	account := fake.AccountSid()
	api := twilioAPI(t, srv, account, account, fake.AuthToken(), 5*time.Second)
	to, from := "+14155550100", "+14155550199"

	// 429 carries Retry-After, as the raw response shows.
	fake.FailNext(1, fakeprovider.RateLimited(3*time.Second))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/2010-04-01/Accounts/"+account+"/Messages.json",
		strings.NewReader(url.Values{"To": {to}, "From": {from}, "Body": {"x"}}.Encode()))
	req.SetBasicAuth(account, fake.AuthToken())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Fatalf("429: status %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	fake.FailNext(1, fakeprovider.ServerError(503))
	_, err = send(api, to, from, "x", "")
	if re := restError(t, err); re.Status != 503 || re.Code != 20503 {
		t.Fatalf("503: %+v", re)
	}

	fake.FailNext(1, fakeprovider.TwilioError(21610))
	_, err = send(api, to, from, "x", "")
	if re := restError(t, err); re.Status != 400 || re.Code != 21610 {
		t.Fatalf("21610: %+v", re)
	}

	// Timeout: the request hangs until the client gives up; nothing is sent.
	fake.FailNext(1, fakeprovider.Timeout())
	short := twilioAPI(t, srv, account, account, fake.AuthToken(), 200*time.Millisecond)
	start := time.Now()
	if _, err := send(short, to, from, "x", ""); err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("timeout: err %v after %v", err, time.Since(start))
	}

	// A lost response: the client times out, the message went out anyway.
	fake.FailNext(1, fakeprovider.LostResponse())
	if _, err := send(short, to, from, "lost but sent", ""); err == nil {
		t.Fatal("lost response: want a client timeout")
	}
	msgs := fake.Messages()
	if n := len(msgs); n != 1 || msgs[0].Body != "lost but sent" {
		t.Fatalf("after injected failures, captured %+v; want only the lost-response message", msgs)
	}

	// Per-recipient failures persist until cleared; others are unaffected.
	fake.FailTo("+14155550111", fakeprovider.TwilioError(21211))
	for range 2 {
		if _, err := send(api, "+14155550111", from, "x", ""); restError(t, err).Code != 21211 {
			t.Fatal("FailTo did not persist")
		}
	}
	if _, err := send(api, to, from, "x", ""); err != nil {
		t.Fatalf("other recipient: %v", err)
	}
	fake.ClearFailures()
	if _, err := send(api, "+14155550111", from, "x", ""); err != nil {
		t.Fatalf("after ClearFailures: %v", err)
	}

	// Slow answers succeed after the delay.
	fake.FailNext(1, fakeprovider.Slow(50*time.Millisecond))
	start = time.Now()
	if _, err := send(api, to, from, "x", ""); err != nil || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("slow: err %v after %v", err, time.Since(start))
	}
}

func TestTwilioRateLimitPerSender(t *testing.T) {
	fake, srv := startTwilio(t, fakeprovider.TwilioConfig{})
	api := twilioAPI(t, srv, fake.AccountSid(), fake.AccountSid(), fake.AuthToken(), 5*time.Second)
	fake.SetRateLimit(1)
	if _, err := send(api, "+14155550100", "+14155550199", "1", ""); err != nil {
		t.Fatal(err)
	}
	_, err := send(api, "+14155550101", "+14155550199", "2", "")
	if re := restError(t, err); re.Status != 429 || re.Code != 20429 {
		t.Fatalf("second send in the same second: %+v", re)
	}
	if _, err := send(api, "+14155550100", "+14155550198", "other sender", ""); err != nil {
		t.Fatalf("another From has its own limit: %v", err)
	}
}

// webhookSink records signed webhook requests.
type webhookSink struct {
	mu       sync.Mutex
	requests []sinkRequest
	reply    string
}

type sinkRequest struct {
	url    string
	header http.Header
	body   []byte
}

func (s *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, sinkRequest{url: "http://" + r.Host + r.URL.RequestURI(), header: r.Header.Clone(), body: body})
	reply := s.reply
	s.mu.Unlock()
	if reply != "" {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, reply)
	}
}

func (s *webhookSink) all() []sinkRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkRequest(nil), s.requests...)
}

func TestTwilioStatusCallbacksAreSigned(t *testing.T) {
	fake, srv := startTwilio(t, fakeprovider.TwilioConfig{})
	api := twilioAPI(t, srv, fake.AccountSid(), fake.AccountSid(), fake.AuthToken(), 5*time.Second)
	sink := &webhookSink{}
	hooks := httptest.NewServer(sink)
	defer hooks.Close()

	fake.SetOutcome("+14155550102", fakeprovider.SMSOutcome{Status: "undelivered"})
	okMsg, err := send(api, "+14155550101", "+14155550199", "fine", hooks.URL+"/twilio/status?d=del-1")
	if err != nil {
		t.Fatal(err)
	}
	badMsg, err := send(api, "+14155550102", "+14155550199", "lost", hooks.URL+"/twilio/status?d=del-2")
	if err != nil {
		t.Fatal(err)
	}
	wait(t, fake)

	validator := client.NewRequestValidator(fake.AuthToken())
	statuses := map[string][]string{}
	for _, r := range sink.all() {
		if !validator.ValidateBody(r.url, r.body, r.header.Get("X-Twilio-Signature")) {
			t.Fatalf("signature of %s does not validate with twilio-go's RequestValidator", r.url)
		}
		form, _ := url.ParseQuery(string(r.body))
		if form.Get("AccountSid") != fake.AccountSid() || form.Get("MessageSid") != form.Get("SmsSid") || form.Get("From") != "+14155550199" {
			t.Fatalf("callback form %v", form)
		}
		sid := form.Get("MessageSid")
		statuses[sid] = append(statuses[sid], form.Get("MessageStatus"))
		if form.Get("MessageStatus") == "undelivered" && form.Get("ErrorCode") != "30003" {
			t.Fatalf("undelivered without ErrorCode: %v", form)
		}
		if want := map[string]string{*okMsg.Sid: "d=del-1", *badMsg.Sid: "d=del-2"}[sid]; !strings.HasSuffix(r.url, want) {
			t.Fatalf("callback %s for %s lost its query", r.url, sid)
		}
	}
	if got := strings.Join(statuses[*okMsg.Sid], ","); got != "sent,delivered" {
		t.Fatalf("statuses for delivered message: %s", got)
	}
	if got := strings.Join(statuses[*badMsg.Sid], ","); got != "sent,undelivered" {
		t.Fatalf("statuses for undelivered message: %s", got)
	}
	if n := len(fake.Webhooks()); n != 4 {
		t.Fatalf("recorded %d webhook calls, want 4", n)
	}

	// A tampered body fails validation, proving the check is real.
	r := sink.all()[0]
	if validator.ValidateBody(r.url, append(r.body, "&Extra=1"...), r.header.Get("X-Twilio-Signature")) {
		t.Fatal("tampered callback validated")
	}
}

func TestTwilioInbound(t *testing.T) {
	fake, srv := startTwilio(t, fakeprovider.TwilioConfig{})
	api := twilioAPI(t, srv, fake.AccountSid(), fake.AccountSid(), fake.AuthToken(), 5*time.Second)
	sink := &webhookSink{reply: `<?xml version="1.0" encoding="UTF-8"?><Response><Message>You will get no more messages. Reply START to resume.</Message></Response>`}
	hooks := httptest.NewServer(sink)
	defer hooks.Close()
	client1, practice := "+14155550123", "+14155550199"

	ctx := context.Background()
	if err := fake.Inbound(ctx, hooks.URL+"/twilio/inbound", client1, practice, "STOP"); err != nil {
		t.Fatal(err)
	}
	r := sink.all()[0]
	validator := client.NewRequestValidator(fake.AuthToken())
	if !validator.ValidateBody(r.url, r.body, r.header.Get("X-Twilio-Signature")) {
		t.Fatal("inbound signature does not validate")
	}
	form, _ := url.ParseQuery(string(r.body))
	for k, want := range map[string]string{"From": client1, "To": practice, "Body": "STOP", "NumMedia": "0", "SmsStatus": "received", "OptOutType": "STOP", "AccountSid": fake.AccountSid()} {
		if form.Get(k) != want {
			t.Fatalf("inbound %s = %q, want %q (form %v)", k, form.Get(k), want, form)
		}
	}
	if !smSid.MatchString(form.Get("MessageSid")) {
		t.Fatalf("MessageSid %q", form.Get("MessageSid"))
	}

	// Twilio now refuses sends to the client with 21610.
	if _, err := send(api, client1, practice, "encouragement", ""); restError(t, err).Code != 21610 {
		t.Fatalf("send after STOP: %v", err)
	}
	wait(t, fake)
	msgs := fake.Messages()
	if len(msgs) != 2 || msgs[0].Direction != "inbound" || msgs[1].Direction != "outbound-reply" || msgs[1].To != client1 {
		t.Fatalf("messages after STOP: %+v", msgs)
	}

	sink.reply = ""
	if err := fake.Inbound(ctx, hooks.URL+"/twilio/inbound", client1, practice, "start"); err != nil {
		t.Fatal(err)
	}
	if _, err := send(api, client1, practice, "welcome back", ""); err != nil {
		t.Fatalf("send after START: %v", err)
	}

	// A webhook that fails is an error.
	if err := fake.Inbound(ctx, srv.URL+"/nowhere", client1, practice, "hi"); err == nil {
		t.Fatal("inbound to a 404 webhook succeeded")
	}
}

func TestTwilioControlAPI(t *testing.T) {
	fake, srv := startTwilio(t, fakeprovider.TwilioConfig{})
	api := twilioAPI(t, srv, fake.AccountSid(), fake.AccountSid(), fake.AuthToken(), 5*time.Second)
	resp, err := http.Post(srv.URL+"/_fake/fail", "application/json", strings.NewReader(`{"count":1,"status":400,"code":21211}`))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /_fake/fail: %v %v", resp, err)
	}
	if _, err := send(api, "+14155550100", "+14155550199", "x", ""); restError(t, err).Code != 21211 {
		t.Fatal("control-API failure not applied")
	}
	if _, err := send(api, "+14155550100", "+14155550199", "x", ""); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(srv.URL + "/_fake/messages")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []fakeprovider.CapturedMessage
	_ = json.NewDecoder(resp.Body).Decode(&msgs)
	resp.Body.Close()
	if len(msgs) != 1 || msgs[0].To != "+14155550100" {
		t.Fatalf("GET /_fake/messages: %+v", msgs)
	}
	if resp, err = http.Post(srv.URL+"/_fake/reset", "", nil); err != nil || len(fake.Messages()) != 0 {
		t.Fatalf("reset: %v %v", resp, err)
	}
}

func TestTwilioMountedUnderPrefix(t *testing.T) {
	fake := fakeprovider.NewTwilio(fakeprovider.TwilioConfig{})
	defer fake.Close()
	mux := http.NewServeMux()
	mux.Handle("/_dev/twilio/", http.StripPrefix("/_dev/twilio", fake))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	form := url.Values{"To": {"+14155550100"}, "From": {"+14155550199"}, "Body": {"x"}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/_dev/twilio/2010-04-01/Accounts/"+fake.AccountSid()+"/Messages.json", strings.NewReader(form.Encode()))
	req.SetBasicAuth(fake.AccountSid(), fake.AuthToken())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestTwilioStart(t *testing.T) {
	fake := fakeprovider.NewTwilio(fakeprovider.TwilioConfig{})
	srv, err := fake.Start()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("URL %q", srv.URL)
	}
	// A request hanging in an injected timeout must not block Close.
	fake.FailNext(1, fakeprovider.Timeout())
	go func() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/2010-04-01/Accounts/"+fake.AccountSid()+"/Messages.json", nil)
		req.SetBasicAuth(fake.AccountSid(), fake.AuthToken())
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a hung request")
	}
}
