package channel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/nudgehq/nudge/internal/tracing"
	"github.com/nudgehq/nudge/internal/vocab"
)

// TwilioConfig configures a TwilioSender.
type TwilioConfig struct {
	// AccountSid is the Twilio account ("AC..."). Required.
	AccountSid string
	// AuthToken authenticates as the account. Alternatively set APIKeySid
	// and APIKeySecret (an API key of the same account); exactly one of the
	// two is required.
	AuthToken    string
	APIKeySid    string
	APIKeySecret string
	// MessagingServiceSid ("MG...") sends through a Messaging Service,
	// which picks the sender number; otherwise From is required.
	MessagingServiceSid string
	From                string
	// StatusCallbackURL, when set, receives Twilio's status callbacks. Each
	// message's callback URL gets "d=<DeliveryID>" added to its query, so a
	// callback can be tied to its delivery even when a crash lost the SID,
	// and, when tracing is on, "traceparent=<the send's span>".
	StatusCallbackURL string
	// BaseURL replaces https://api.twilio.com, e.g. a fakeprovider.Twilio
	// ("http://127.0.0.1:8080/_dev/twilio"; a path prefix is kept).
	BaseURL string
	// HTTPTimeout bounds each Send and each Lookup. Default 15s.
	HTTPTimeout time.Duration
}

const defaultHTTPTimeout = 15 * time.Second

var alphanumeric = regexp.MustCompile(`^[A-Za-z0-9]+$`)

func (c *TwilioConfig) validate() error {
	switch {
	case !strings.HasPrefix(c.AccountSid, "AC") || !alphanumeric.MatchString(c.AccountSid):
		return errors.New(`channel: TwilioConfig.AccountSid must be an account SID ("AC...")`)
	case c.AuthToken == "" && c.APIKeySid == "":
		return errors.New("channel: TwilioConfig.AuthToken or APIKeySid/APIKeySecret is required")
	case c.AuthToken != "" && c.APIKeySid != "":
		return errors.New("channel: set TwilioConfig.AuthToken or APIKeySid, not both")
	// twilio-go refuses non-alphanumeric credentials at request time (21222/21224).
	case c.AuthToken != "" && !alphanumeric.MatchString(c.AuthToken):
		return errors.New("channel: TwilioConfig.AuthToken must be alphanumeric")
	case c.APIKeySid != "" && (!alphanumeric.MatchString(c.APIKeySid) || !alphanumeric.MatchString(c.APIKeySecret)):
		return errors.New("channel: TwilioConfig.APIKeySid and APIKeySecret must be alphanumeric")
	case c.MessagingServiceSid == "" && c.From == "":
		return errors.New("channel: TwilioConfig.MessagingServiceSid or From is required")
	case c.HTTPTimeout < 0:
		return errors.New("channel: TwilioConfig.HTTPTimeout must not be negative")
	}
	if c.StatusCallbackURL != "" {
		if u, err := url.Parse(c.StatusCallbackURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("channel: TwilioConfig.StatusCallbackURL %q is not an absolute http(s) URL", c.StatusCallbackURL)
		}
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("channel: TwilioConfig.BaseURL %q is not an absolute http(s) URL", c.BaseURL)
		}
	}
	return nil
}

// TwilioSender sends SMS through Twilio's Messages API with twilio-go.
//
// # Tying a Twilio message to its delivery
//
// Twilio has no idempotency key and no metadata field on a message, and
// whatever goes in the body reaches the client's lock screen. So nothing
// extra travels in the message: the DeliveryID rides only in the status
// callback URL ("?d=<id>"), which Twilio keeps to itself and echoes to
// nudge. Twilio does not return the callback URL through the API, so Lookup
// reconciles by what it can see: a message to m.To (from the configured
// From, when set) whose body equals m.Text, created at or after since. The
// list is read without a DateSent filter, because date_sent stays null
// while a message waits in Twilio's queue (a long code sends about one
// segment a second), and a queued message must still count as sent. Two
// deliveries with identical text to one number in the window are
// indistinguishable; Lookup then reports the oldest.
type TwilioSender struct {
	cfg       TwilioConfig
	user      string
	pass      string
	base      *url.URL // nil: https://api.twilio.com
	callback  *url.URL // nil: no status callbacks
	transport http.RoundTripper
}

// NewTwilio returns a TwilioSender for cfg.
func NewTwilio(cfg TwilioConfig) (*TwilioSender, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.HTTPTimeout == 0 {
		cfg.HTTPTimeout = defaultHTTPTimeout
	}
	s := &TwilioSender{cfg: cfg, user: cfg.AccountSid, pass: cfg.AuthToken, transport: newTransport()}
	if cfg.APIKeySid != "" {
		s.user, s.pass = cfg.APIKeySid, cfg.APIKeySecret
	}
	if cfg.BaseURL != "" {
		s.base, _ = url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	}
	if cfg.StatusCallbackURL != "" {
		s.callback, _ = url.Parse(cfg.StatusCallbackURL)
	}
	return s, nil
}

// Channel returns SMS.
func (s *TwilioSender) Channel() vocab.Channel { return vocab.SMS }

// Send creates the message. The receipt's Status is Twilio's: "queued", or
// "accepted" through a Messaging Service.
func (s *TwilioSender) Send(ctx context.Context, m Message) (Receipt, error) {
	if why := m.problem(vocab.SMS); why != "" {
		return Receipt{}, invalid("twilio", why)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HTTPTimeout)
	defer cancel()
	api, call := s.api(ctx)

	p := &openapi.CreateMessageParams{}
	p.SetTo(m.To)
	p.SetBody(m.Text)
	if s.cfg.MessagingServiceSid != "" {
		p.SetMessagingServiceSid(s.cfg.MessagingServiceSid)
	} else {
		p.SetFrom(s.cfg.From)
	}
	if s.callback != nil {
		p.SetStatusCallback(s.callbackURL(m.DeliveryID, tracing.Traceparent(ctx)))
	}
	msg, err := api.CreateMessage(p)
	if err != nil {
		return Receipt{}, s.classify(err, call)
	}
	return Receipt{ProviderID: deref(msg.Sid), Status: deref(msg.Status)}, nil
}

// callbackURL is the status callback URL for one delivery: "d" is the
// delivery, "traceparent" (when tracing is on) the provider call's span,
// which the webhook's span links to. Twilio signs the whole URL, so both
// arrive verified.
func (s *TwilioSender) callbackURL(deliveryID, traceparent string) string {
	u := *s.callback
	q := u.Query()
	q.Set("d", deliveryID)
	if traceparent != "" {
		q.Set(tracing.Param, traceparent)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// lookupScan bounds how many recent messages to one number Lookup reads.
// Cadence caps keep a client far below it within any reconciliation window.
const lookupScan = 200

// clockSkew allows for the difference between nudge's clock (since) and
// Twilio's (date_created).
const clockSkew = 2 * time.Minute

// Lookup finds the message Send created for m, matching by recipient, body
// and creation time (see the type's documentation).
func (s *TwilioSender) Lookup(ctx context.Context, m Message, since time.Time) (Receipt, bool, error) {
	if why := m.problem(vocab.SMS); why != "" {
		return Receipt{}, false, invalid("twilio", why)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HTTPTimeout)
	defer cancel()
	api, call := s.api(ctx)

	p := &openapi.ListMessageParams{}
	p.SetTo(m.To)
	if s.cfg.MessagingServiceSid == "" {
		p.SetFrom(s.cfg.From)
	}
	p.SetPageSize(50)
	p.SetLimit(lookupScan)
	msgs, err := api.ListMessage(p)
	if err != nil {
		return Receipt{}, false, s.classify(err, call)
	}
	want := comparableBody(m.Text)
	cutoff := since.Add(-clockSkew)
	var best *openapi.ApiV2010Message
	var bestAt time.Time
	for i := range msgs {
		msg := &msgs[i]
		if !strings.HasPrefix(deref(msg.Direction), "outbound") || comparableBody(deref(msg.Body)) != want {
			continue
		}
		created, err := time.Parse(time.RFC1123Z, deref(msg.DateCreated))
		if err != nil || created.Before(cutoff) {
			continue
		}
		if best == nil || created.Before(bestAt) {
			best, bestAt = msg, created
		}
	}
	if best == nil {
		return Receipt{}, false, nil
	}
	return Receipt{ProviderID: deref(best.Sid), Status: deref(best.Status)}, true, nil
}

// smartCharacters are what a Messaging Service's Smart Encoding replaces
// in a body; comparing without them keeps Lookup working when it is on.
var smartCharacters = strings.NewReplacer(
	"\u2018", "'", "\u2019", "'", "\u201C", `"`, "\u201D", `"`,
	"\u2013", "-", "\u2014", "-", "\u2026", "...", "\u00A0", " ",
)

func comparableBody(s string) string { return smartCharacters.Replace(s) }

// classify turns a twilio-go error into a *ProviderError.
func (s *TwilioSender) classify(err error, call *httpCall) *ProviderError {
	status, header := call.response()
	if re, ok := errors.AsType[*client.TwilioRestError](err); ok {
		if re.Status != 0 {
			status = re.Status
		}
		pe := statusError("twilio", status, err)
		pe.Code, pe.Message = strconv.Itoa(re.Code), redact(re.Message)
		switch {
		case re.Code == 21610:
			pe.Class = RevokeConsent
		case re.Code == 20429:
			pe.Class = Transient
		case re.Code == 20003 || status == http.StatusUnauthorized:
			pe.Class, pe.Err = Permanent, errors.Join(ErrUnauthorized, err)
			pe.Message = "Twilio rejected the credentials (20003): check TwilioConfig.AccountSid and AuthToken or the API key"
		}
		if status == http.StatusTooManyRequests || re.Code == 20429 {
			pe.RetryAfter = max(parseRetryAfter(header.Get("Retry-After"), time.Now()), minRetryAfter)
		}
		return pe
	}
	switch {
	case status >= 400:
		// An error body that is not Twilio's JSON (a proxy's error page).
		pe := statusError("twilio", status, err)
		pe.Message = http.StatusText(status)
		if status == http.StatusTooManyRequests {
			pe.RetryAfter = max(parseRetryAfter(header.Get("Retry-After"), time.Now()), minRetryAfter)
		}
		return pe
	case status >= 200 && status < 300:
		// Twilio answered success but the body was unreadable: it did act.
		return &ProviderError{Provider: "twilio", Class: Transient, Status: status, MaybeSent: true,
			Message: "unreadable response: " + redact(err.Error()), Err: err}
	}
	return transportError("twilio", err, call.wrote.Load())
}

// api returns twilio-go's Messages API for one call, bound to ctx.
func (s *TwilioSender) api(ctx context.Context) (*openapi.ApiService, *httpCall) {
	call := &httpCall{}
	c := &twilioClient{
		Client: client.Client{
			Credentials: client.NewCredentials(s.user, s.pass),
			HTTPClient: &http.Client{
				Transport:     &callTransport{ctx: ctx, next: s.transport, call: call},
				CheckRedirect: noRedirects,
			},
		},
		base: s.base,
	}
	c.SetAccountSid(s.cfg.AccountSid)
	return openapi.NewApiServiceWithClient(c), call
}

// twilioClient is the client.BaseClient twilio-go documents as its
// extension point (advanced-examples/custom-http-client.md): it sends every
// request through the embedded client.Client, after pointing the SDK's
// fixed https://api.twilio.com URLs at BaseURL. That includes the
// next_page_uri URLs the SDK builds while paging, and any edge/region host
// (api.<edge>.<region>.twilio.com) the SDK derived from TWILIO_EDGE or
// TWILIO_REGION.
type twilioClient struct {
	client.Client
	base *url.URL
}

func (c *twilioClient) SendRequest(method, rawURL string, data url.Values, headers map[string]interface{}, body ...byte) (*http.Response, error) {
	if c.base != nil {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, err
		}
		if u.Host == "twilio.com" || strings.HasSuffix(u.Host, ".twilio.com") {
			u.Scheme, u.Host = c.base.Scheme, c.base.Host
			u.Path, u.RawPath = c.base.Path+u.Path, ""
			rawURL = u.String()
		}
	}
	return c.Client.SendRequest(method, rawURL, data, headers, body...)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
