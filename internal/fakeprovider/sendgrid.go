package fakeprovider

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SendGridConfig configures a fake SendGrid account. The zero value works:
// it gets one random API key and a fresh event-webhook signing key, and
// posts no events until an EventWebhookURL is set.
type SendGridConfig struct {
	// APIKeys are the accepted API keys ("SG.xxx.yyy"). Default: one random
	// key, see [SendGrid.APIKey].
	APIKeys []string
	// EventWebhookURL receives the signed event webhook; empty posts none
	// (the events still happen and show in Messages and the activity API).
	EventWebhookURL string
	// SigningKey signs the event webhook. Default: a fresh P-256 key; set
	// one to keep the public key stable across restarts.
	SigningKey *ecdsa.PrivateKey
	// EventDelay is the pause before each event batch. Default 10ms.
	EventDelay time.Duration
	// ActivityLag is how long after it was processed a message becomes
	// visible to the Email Activity API; the real index lags by seconds to
	// minutes. Default 0.
	ActivityLag time.Duration
	// DuplicateEvents posts every event batch twice, and OutOfOrderEvents
	// posts a message's batches last-first: SendGrid does both.
	DuplicateEvents  bool
	OutOfOrderEvents bool
	// Keep bounds the messages the fake remembers (for Messages and the
	// activity API) to the newest Keep, and the event webhook calls
	// (Webhooks) likewise; 0 keeps every one.
	Keep int
}

// SendGrid is a fake of SendGrid's v3 Mail Send API with its signed event
// webhook and a minimal Email Activity API. It serves:
//
//	POST /v3/mail/send   JSON body validated like SendGrid; 202 + X-Message-Id
//	GET  /v3/messages    ?query=...&limit=N (see below)
//
// The Email Activity query supports clauses joined by AND, optionally in
// parentheses: msg_id, to_email, from_email, subject and status compared
// with ="value", unique_args['key']="value" for custom args, and
// last_event_time BETWEEN TIMESTAMP "RFC 3339" AND TIMESTAMP "RFC 3339".
//
// The control API under /_fake/ (not authenticated) serves GET messages,
// webhooks and public-key, POST reset, clear-failures, fail (as for [Twilio]) and outcome
// ({"to","event"}).
//
// All methods are safe for concurrent use.
type SendGrid struct {
	core
	mux *http.ServeMux

	// guarded by core.mu
	cfg      SendGridConfig
	msgs     []*emailMessage
	outcomes map[string]string
}

// emailMessage is one recipient of an accepted request.
type emailMessage struct {
	CapturedMessage
	categories []string
	processed  time.Time // zero until the processed event
	lastEvent  time.Time
}

// NewSendGrid returns a fake SendGrid account.
func NewSendGrid(cfg SendGridConfig) *SendGrid {
	if len(cfg.APIKeys) == 0 {
		cfg.APIKeys = []string{"SG." + randomB64(16) + "." + randomB64(32)}
	}
	cfg.APIKeys = slices.Clone(cfg.APIKeys)
	if cfg.SigningKey == nil {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic("fakeprovider: generating P-256 key: " + err.Error())
		}
		cfg.SigningKey = key
	}
	if cfg.EventDelay == 0 {
		cfg.EventDelay = 10 * time.Millisecond
	}
	s := &SendGrid{core: newCore(cfg.Keep), cfg: cfg, outcomes: map[string]string{}}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v3/mail/send", s.handleSend)
	s.mux.HandleFunc("GET /v3/messages", s.handleActivity)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeSendGridErrors(w, http.StatusNotFound, sgError{Message: "resource not found"})
	})
	s.controlRoutes()
	return s
}

// APIKey returns the first accepted API key.
func (s *SendGrid) APIKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cfg.APIKeys) == 0 {
		return ""
	}
	return s.cfg.APIKeys[0]
}

// SetAPIKeys replaces the accepted API keys: clients using any other key get
// 401 from now on.
func (s *SendGrid) SetAPIKeys(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.APIKeys = slices.Clone(keys)
}

// SetEventWebhookURL sets where events are posted ("" stops posting).
func (s *SendGrid) SetEventWebhookURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.EventWebhookURL = url
}

// Start serves the fake on a loopback port.
func (s *SendGrid) Start() (*Server, error) { return start(s, s.Close) }

// ServeHTTP serves the SendGrid API paths from the root.
func (s *SendGrid) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Messages returns every accepted message, one per recipient, oldest first.
func (s *SendGrid) Messages() []CapturedMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CapturedMessage, 0, len(s.msgs))
	for _, m := range s.msgs {
		out = append(out, m.clone())
	}
	return out
}

// Reset forgets messages, webhooks, failures, outcomes, latency and rate
// limits. Keys and the webhook URL stay.
func (s *SendGrid) Reset() {
	s.resetCore()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
	s.outcomes = map[string]string{}
}

// sgError is one entry of SendGrid's {"errors": [...]} body.
type sgError struct {
	Message string  `json:"message"`
	Field   *string `json:"field"`
	Help    *string `json:"help"`
}

func fieldError(field, message string) sgError {
	help := "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message." + field
	return sgError{Message: message, Field: &field, Help: &help}
}

func sendGridErrors(status int, errs ...sgError) reply {
	return reply{status: status, body: map[string][]sgError{"errors": errs}}
}

func writeSendGridErrors(w http.ResponseWriter, status int, errs ...sgError) {
	sendGridErrors(status, errs...).write(w)
}

// begin applies latency and authentication; false means the response is
// written.
func (s *SendGrid) begin(w http.ResponseWriter, r *http.Request) (apiKey string, ok bool) {
	if !s.stall(r.Context(), s.currentLatency()) {
		return "", false
	}
	auth := r.Header.Get("Authorization")
	key, found := strings.CutPrefix(auth, "Bearer ")
	if !found || key == "" {
		writeSendGridErrors(w, http.StatusUnauthorized, sgError{Message: "authorization required"})
		return "", false
	}
	s.mu.Lock()
	valid := slices.ContainsFunc(s.cfg.APIKeys, func(k string) bool {
		return subtle.ConstantTimeCompare([]byte(k), []byte(key)) == 1
	})
	s.mu.Unlock()
	if !valid {
		writeSendGridErrors(w, http.StatusUnauthorized, sgError{Message: "The provided authorization grant is invalid, expired, or revoked"})
		return "", false
	}
	return key, true
}

// failure applies an injected failure; see [Twilio.failure].
func (s *SendGrid) failure(w http.ResponseWriter, r *http.Request, f Failure, process func() reply) (reply, bool) {
	var rep reply
	if f.Accepted && process != nil {
		rep = process()
	}
	if !s.stall(r.Context(), f.Delay) {
		return rep, true
	}
	if f.Status == 0 {
		return rep, false
	}
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
		if f.Status == http.StatusTooManyRequests {
			msg = "too many requests"
		}
	}
	if f.Status == http.StatusTooManyRequests {
		setRateLimitHeaders(w.Header(), f.RetryAfter)
	}
	writeSendGridErrors(w, f.Status, sgError{Message: msg})
	return rep, true
}

func setRateLimitHeaders(h http.Header, wait time.Duration) {
	reset := time.Now().Add(max(wait, time.Second))
	h.Set("X-RateLimit-Limit", "600")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Add(time.Second-1).Unix(), 10))
}

// maxMailBytes is SendGrid's 30 MB limit on a mail send request.
const maxMailBytes = 30 << 20

func (s *SendGrid) handleSend(w http.ResponseWriter, r *http.Request) {
	apiKey, ok := s.begin(w, r)
	if !ok {
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxMailBytes+1))
	if err != nil {
		return
	}
	if len(raw) > maxMailBytes {
		writeSendGridErrors(w, http.StatusRequestEntityTooLarge, sgError{Message: "content size limit exceeded"})
		return
	}
	process := func() reply { return s.accept(apiKey, raw) }
	var rep reply
	if f, ok := s.takeFailureFor(func() []string { return recipientsOf(raw) }); ok {
		var done bool
		if rep, done = s.failure(w, r, f, process); done {
			return
		}
	}
	if rep.status == 0 {
		rep = process()
	}
	rep.write(w)
}

// accept validates a mail send, stores one message per recipient and
// schedules its events.
func (s *SendGrid) accept(apiKey string, raw []byte) reply {
	var m sgMail
	if err := json.Unmarshal(raw, &m); err != nil {
		return sendGridErrors(http.StatusBadRequest, sgError{Message: "Bad Request"})
	}
	if errs := m.validate(); len(errs) > 0 {
		return sendGridErrors(http.StatusBadRequest, errs...)
	}
	if ok, wait := s.allow(apiKey); !ok {
		rep := sendGridErrors(http.StatusTooManyRequests, sgError{Message: "too many requests"})
		rep.header = http.Header{}
		setRateLimitHeaders(rep.header, wait)
		return rep
	}
	xmid := randomB64(16)
	now := time.Now()
	var text, html string
	for _, c := range m.Content {
		switch c.Type {
		case "text/plain":
			text = c.Value
		case "text/html":
			html = c.Value
		}
	}
	var batch []*emailMessage
	for i, p := range m.Personalizations {
		subject := m.Subject
		if p.Subject != "" {
			subject = p.Subject
		}
		args := stringArgs(m.CustomArgs)
		maps.Copy(args, stringArgs(p.CustomArgs))
		if len(args) == 0 {
			args = nil
		}
		headers := stringArgs(m.Headers)
		maps.Copy(headers, stringArgs(p.Headers))
		if len(headers) == 0 {
			headers = nil
		}
		for j, to := range slices.Concat(p.To, p.Cc, p.Bcc) {
			batch = append(batch, &emailMessage{
				CapturedMessage: CapturedMessage{
					Channel: "email", Direction: "outbound", ID: xmid,
					EventMessageID: xmid + ".filterdrecv-fake-" + strconv.Itoa(i) + "-" + strconv.Itoa(j) + ".0",
					To:             to.Email, From: m.From.Email,
					Subject: subject, Text: text, HTML: html, CustomArgs: args, Headers: headers,
					Status: "accepted", Created: now, JSON: slices.Clone(raw),
				},
				categories: slices.Clone(m.Categories),
			})
		}
	}
	s.mu.Lock()
	s.msgs = keepNewest(append(s.msgs, batch...), s.keep, nil)
	s.mu.Unlock()
	s.goAsync(func() { s.deliver(batch) })
	return reply{status: http.StatusAccepted, header: http.Header{"X-Message-Id": {xmid}}}
}

// recipientsOf extracts the recipient addresses of a mail send body, for
// per-recipient failures; a body that does not parse has none.
func recipientsOf(raw []byte) []string {
	var m sgMail
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []string
	for _, p := range m.Personalizations {
		for _, a := range slices.Concat(p.To, p.Cc, p.Bcc) {
			out = append(out, a.Email)
		}
	}
	return out
}

func stringArgs(in map[string]any) map[string]string {
	out := make(map[string]string, len(in))
	for k, v := range in {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func randomB64(nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
