package fakeprovider

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// TwilioConfig configures a fake Twilio account. The zero value works: it
// gets a random Account SID and auth token, accepts any valid From number,
// and moves each message to its next status after 10ms.
type TwilioConfig struct {
	// AccountSid is the account ("AC" + 32 hex). Default: random.
	AccountSid string
	// AuthToken is the account's auth token: it authenticates API calls
	// (with AccountSid as user name) and signs every webhook. Default: random.
	AuthToken string
	// APIKeys maps API key SIDs ("SK...") to their secrets; either can also
	// authenticate API calls, as with real Twilio.
	APIKeys map[string]string
	// Numbers are the account's phone numbers. When set, a From outside
	// this list is refused with 21606, and messages sent through a
	// Messaging Service go out from the first one. Empty: any From is
	// accepted and Messaging Service messages use +15005550006.
	Numbers []string
	// StatusDelay is the pause before each status change (queued → sent →
	// delivered) and its callback. Default 10ms; raise it in dev mode to
	// watch messages progress.
	StatusDelay time.Duration
	// Keep bounds the messages the fake remembers (for Messages, the list
	// and fetch APIs) to the newest Keep, and the webhook calls (Webhooks)
	// likewise; older ones are forgotten, as a long-running dev server or a
	// benchmark needs. 0 keeps every one.
	Keep int
}

// Twilio is a fake of Twilio's Programmable Messaging REST API (2010-04-01).
// It serves:
//
//	POST /2010-04-01/Accounts/{AccountSid}/Messages.json   send
//	GET  /2010-04-01/Accounts/{AccountSid}/Messages.json   list (To, From, DateSent, DateSent<, DateSent>, PageSize, Page, PageToken)
//	GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json
//
// Beyond validation it behaves like a live account: the reserved test
// numbers fail as Twilio documents (To +15005550001 → 21211, …0002 → 21612,
// …0003 → 21408, …0004 → 21610, …0009 → 21614; From +15005550001 → 21212,
// …0007 → 21606, …0008 → 21611), a recipient who texted STOP (see
// [Twilio.Inbound]) gets 21610 until START, and status callbacks follow each
// send.
//
// The control API under /_fake/ (not authenticated) serves GET messages and
// webhooks, POST reset, clear-failures, fail ({"count","to","status","code","message",
// "retry_after_ms","delay_ms","accepted"}), outcome ({"to","status",
// "error_code"}) and inbound ({"url","from","to","body"}).
//
// All methods are safe for concurrent use.
type Twilio struct {
	core
	mux *http.ServeMux

	// guarded by core.mu
	cfg      TwilioConfig
	seq      int64
	msgs     []*smsMessage
	bySid    map[string]*smsMessage
	outcomes map[string]SMSOutcome
	optedOut map[string]bool
}

// NewTwilio returns a fake Twilio account.
func NewTwilio(cfg TwilioConfig) *Twilio {
	if cfg.AccountSid == "" {
		cfg.AccountSid = "AC" + randomHex(16)
	}
	if cfg.AuthToken == "" {
		cfg.AuthToken = randomHex(16)
	}
	if cfg.StatusDelay == 0 {
		cfg.StatusDelay = 10 * time.Millisecond
	}
	t := &Twilio{
		core:     newCore(cfg.Keep),
		cfg:      cfg,
		bySid:    map[string]*smsMessage{},
		outcomes: map[string]SMSOutcome{},
		optedOut: map[string]bool{},
	}
	t.routes()
	return t
}

// AccountSid returns the account SID.
func (t *Twilio) AccountSid() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cfg.AccountSid
}

// AuthToken returns the current auth token.
func (t *Twilio) AuthToken() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cfg.AuthToken
}

// SetAuthToken rotates the auth token: clients still using the old one get
// 401 / 20003, and webhooks are signed with the new one.
func (t *Twilio) SetAuthToken(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cfg.AuthToken = token
}

// Start serves the fake on a loopback port.
func (t *Twilio) Start() (*Server, error) { return start(t, t.Close) }

// ServeHTTP serves the Twilio API paths from the root.
func (t *Twilio) ServeHTTP(w http.ResponseWriter, r *http.Request) { t.mux.ServeHTTP(w, r) }

// Messages returns every message sent or received so far, oldest first.
func (t *Twilio) Messages() []CapturedMessage {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]CapturedMessage, 0, len(t.msgs))
	for _, m := range t.msgs {
		out = append(out, m.captured())
	}
	return out
}

// Reset forgets messages, webhooks, failures, outcomes, opt-outs, latency
// and rate limits. Credentials stay.
func (t *Twilio) Reset() {
	t.resetCore()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.msgs = nil
	t.bySid = map[string]*smsMessage{}
	t.outcomes = map[string]SMSOutcome{}
	t.optedOut = map[string]bool{}
}

// OptOut marks recipient as having texted STOP: sends to it fail with 21610
// until [Twilio.OptIn] or an inbound START.
func (t *Twilio) OptOut(recipient string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.optedOut[recipient] = true
}

// OptIn lifts an opt-out.
func (t *Twilio) OptIn(recipient string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.optedOut, recipient)
}

func (t *Twilio) routes() {
	const base = "/2010-04-01/Accounts/{AccountSid}/"
	t.mux = http.NewServeMux()
	t.mux.HandleFunc("POST "+base+"Messages.json", t.handleCreate)
	t.mux.HandleFunc("GET "+base+"Messages.json", t.handleList)
	t.mux.HandleFunc("GET "+base+"Messages/{file}", t.handleFetch)
	t.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeTwilioError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
	})
	t.controlRoutes()
}

// begin applies latency and authentication; false means the response is
// written.
func (t *Twilio) begin(w http.ResponseWriter, r *http.Request) bool {
	if !t.stall(r.Context(), t.currentLatency()) {
		return false
	}
	if !t.authenticated(r, r.PathValue("AccountSid")) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeTwilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return false
	}
	return true
}

func (t *Twilio) authenticated(r *http.Request, account string) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if account != t.cfg.AccountSid {
		return false
	}
	if user == t.cfg.AccountSid {
		return subtle.ConstantTimeCompare([]byte(pass), []byte(t.cfg.AuthToken)) == 1
	}
	secret, ok := t.cfg.APIKeys[user]
	return ok && subtle.ConstantTimeCompare([]byte(pass), []byte(secret)) == 1
}

// failure applies an injected failure. It returns true when the response
// has been written (or the client is gone) and the caller must stop;
// process, when not nil, runs first for failures that accept the request.
func (t *Twilio) failure(w http.ResponseWriter, r *http.Request, f Failure, process func() reply) (reply, bool) {
	var rep reply
	if f.Accepted && process != nil {
		rep = process()
	}
	if !t.stall(r.Context(), f.Delay) {
		return rep, true
	}
	if f.Status == 0 {
		return rep, false
	}
	code := f.Code
	if code == 0 {
		code = defaultTwilioCode(f.Status)
	}
	msg := f.Message
	if msg == "" {
		msg = twilioMessageFor(code)
	}
	if f.Status == http.StatusTooManyRequests && f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(f.RetryAfter)))
	}
	writeTwilioError(w, f.Status, code, msg)
	return rep, true
}

// TwilioErrorBody is the JSON body of every Twilio API error.
type TwilioErrorBody struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func twilioErr(status, code int, msg string) reply {
	return reply{status: status, body: TwilioErrorBody{
		Code: code, Message: msg, Status: status,
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
	}}
}

func writeTwilioError(w http.ResponseWriter, status, code int, msg string) {
	twilioErr(status, code, msg).write(w)
}

func defaultTwilioCode(status int) int {
	switch status {
	case http.StatusUnauthorized:
		return 20003
	case http.StatusNotFound:
		return 20404
	case http.StatusTooManyRequests:
		return 20429
	case http.StatusInternalServerError:
		return 20500
	case http.StatusServiceUnavailable:
		return 20503
	}
	if status >= 500 {
		return 20500
	}
	return 21000
}

// twilioMessages are the messages Twilio returns for the codes the fake
// produces (paraphrased where Twilio includes the number).
var twilioMessages = map[int]string{
	20003: "Authenticate",
	20429: "Too Many Requests",
	20500: "An internal server error has occurred",
	20503: "Service unavailable",
	21211: "The 'To' number is not a valid phone number.",
	21212: "The 'From' number is not a valid phone number, shortcode, or alphanumeric sender ID.",
	21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number.",
	21602: "Message body is required.",
	21603: "A 'From' phone number is required.",
	21604: "A 'To' phone number is required.",
	21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination.",
	21609: "Invalid StatusCallback url.",
	21610: "Attempt to send to unsubscribed recipient",
	21611: "This 'From' number has exceeded the maximum number of queued messages",
	21612: "The 'To' phone number is not currently reachable using the 'From' phone number via SMS.",
	21614: "'To' number is not a valid mobile number",
	21617: "The concatenated message body exceeds the 1600 character limit.",
	21701: "The Messaging Service Sid is invalid.",
}

func twilioMessageFor(code int) string {
	if m, ok := twilioMessages[code]; ok {
		return m
	}
	return "Twilio error " + strconv.Itoa(code)
}

func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

func (t *Twilio) numbers() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.cfg.Numbers)
}
