package channel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"

	"github.com/nudgehq/nudge/internal/tracing"
	"github.com/nudgehq/nudge/internal/vocab"
)

// SendGridConfig configures a SendGridSender.
type SendGridConfig struct {
	// APIKey needs the mail.send scope, and email_activity.read for Lookup.
	// Required.
	APIKey string
	// FromEmail is the verified sender address. Required. FromName is
	// shown beside it (the practice's name).
	FromEmail string
	FromName  string
	// BaseURL replaces https://api.sendgrid.com, e.g. a
	// fakeprovider.SendGrid ("http://127.0.0.1:8080/_dev/sendgrid").
	BaseURL string
	// HTTPTimeout bounds each Send and each Lookup. Default 15s.
	HTTPTimeout time.Duration
}

func (c *SendGridConfig) validate() error {
	switch {
	case c.APIKey == "":
		return errors.New("channel: SendGridConfig.APIKey is required")
	case c.FromEmail == "":
		return errors.New("channel: SendGridConfig.FromEmail is required")
	case c.HTTPTimeout < 0:
		return errors.New("channel: SendGridConfig.HTTPTimeout must not be negative")
	}
	if a, err := mail.ParseAddress(c.FromEmail); err != nil || a.Address != c.FromEmail {
		return fmt.Errorf("channel: SendGridConfig.FromEmail %q is not a bare email address", c.FromEmail)
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("channel: SendGridConfig.BaseURL %q is not an absolute http(s) URL", c.BaseURL)
		}
	}
	return nil
}

// SendGridSender sends email through SendGrid's v3 Mail Send API with
// sendgrid-go.
//
// The DeliveryID travels as a custom arg ("delivery_id"), which SendGrid
// echoes at the top level of every event; the only other one is the send's
// W3C traceparent when tracing is on. Lookup asks the Email
// Activity API for messages with that custom arg (unique_args in its query
// language). That API is a paid add-on, needs the email_activity.read
// scope, and indexes messages with a delay of seconds to minutes: a "not
// found" soon after a send is not proof that nothing was sent, so
// reconciliation should wait a few minutes past the attempt before
// trusting it.
type SendGridSender struct {
	cfg  SendGridConfig
	host string
	rest *rest.Client
}

// NewSendGrid returns a SendGridSender for cfg.
func NewSendGrid(cfg SendGridConfig) (*SendGridSender, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.HTTPTimeout == 0 {
		cfg.HTTPTimeout = defaultHTTPTimeout
	}
	host := "https://api.sendgrid.com"
	if cfg.BaseURL != "" {
		host = strings.TrimSuffix(cfg.BaseURL, "/")
	}
	return &SendGridSender{
		cfg:  cfg,
		host: host,
		rest: &rest.Client{HTTPClient: &http.Client{Transport: newTransport(), CheckRedirect: noRedirects}},
	}, nil
}

// Channel returns Email.
func (s *SendGridSender) Channel() vocab.Channel { return vocab.Email }

// deliveryIDArg is the custom arg carrying Message.DeliveryID.
const deliveryIDArg = "delivery_id"

// Send posts one mail to one recipient. The receipt's ProviderID is the
// X-Message-Id; Status is "accepted".
func (s *SendGridSender) Send(ctx context.Context, m Message) (Receipt, error) {
	if why := m.problem(vocab.Email); why != "" {
		return Receipt{}, invalid("sendgrid", why)
	}
	msg := sgmail.NewV3Mail()
	msg.SetFrom(sgmail.NewEmail(s.cfg.FromName, s.cfg.FromEmail))
	msg.Subject = m.Subject
	p := sgmail.NewPersonalization()
	p.AddTos(sgmail.NewEmail("", m.To))
	for name, value := range m.Headers {
		p.SetHeader(name, value)
	}
	msg.AddPersonalizations(p)
	if m.Text != "" {
		msg.AddContent(sgmail.NewContent("text/plain", m.Text)) // text/plain must come first
	}
	if m.HTML != "" {
		msg.AddContent(sgmail.NewContent("text/html", m.HTML))
	}
	msg.SetCustomArg(deliveryIDArg, m.DeliveryID)
	if tp := tracing.Traceparent(ctx); tp != "" {
		// Echoed with every event like delivery_id: the event webhook's
		// span links to this send.
		msg.SetCustomArg(tracing.Param, tp)
	}

	req := sendgrid.GetRequest(s.cfg.APIKey, "/v3/mail/send", s.host)
	req.Method = rest.Post
	req.Body = sgmail.GetRequestBody(msg)
	resp, call, err := s.do(ctx, req)
	if err != nil {
		return Receipt{}, transportError("sendgrid", err, call.wrote.Load())
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Receipt{}, sendGridStatusError(resp)
	}
	id := first(resp.Headers["X-Message-Id"])
	if id == "" {
		return Receipt{}, &ProviderError{Provider: "sendgrid", Class: Transient, Status: resp.StatusCode, MaybeSent: true,
			Message: "accepted without an X-Message-Id"}
	}
	return Receipt{ProviderID: id, Status: "accepted"}, nil
}

// Lookup asks the Email Activity API for the message carrying
// m.DeliveryID. The delivery id is unique, so since does not narrow the
// search.
func (s *SendGridSender) Lookup(ctx context.Context, m Message, since time.Time) (Receipt, bool, error) {
	if why := m.problem(vocab.Email); why != "" {
		return Receipt{}, false, invalid("sendgrid", why)
	}
	req := sendgrid.GetRequest(s.cfg.APIKey, "/v3/messages", s.host)
	req.Method = rest.Get
	req.QueryParams = map[string]string{
		// DeliveryID is restricted to characters that need no quoting.
		"query": fmt.Sprintf(`unique_args['%s']="%s"`, deliveryIDArg, m.DeliveryID),
		"limit": "10",
	}
	resp, call, err := s.do(ctx, req)
	if err != nil {
		return Receipt{}, false, transportError("sendgrid", err, call.wrote.Load())
	}
	if resp.StatusCode != http.StatusOK {
		return Receipt{}, false, sendGridStatusError(resp)
	}
	var page struct {
		Messages []struct {
			MsgID   string `json:"msg_id"`
			ToEmail string `json:"to_email"`
			Status  string `json:"status"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &page); err != nil {
		return Receipt{}, false, &ProviderError{Provider: "sendgrid", Class: Transient, Status: resp.StatusCode,
			Message: "unreadable activity response", Err: err}
	}
	for _, msg := range page.Messages {
		if strings.EqualFold(msg.ToEmail, m.To) {
			// msg_id is the X-Message-Id followed by ".filter..." routing parts.
			id, _, _ := strings.Cut(msg.MsgID, ".")
			return Receipt{ProviderID: id, Status: msg.Status}, true, nil
		}
	}
	return Receipt{}, false, nil
}

func (s *SendGridSender) do(ctx context.Context, req rest.Request) (*rest.Response, *httpCall, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.HTTPTimeout)
	defer cancel()
	call := &httpCall{}
	resp, err := s.rest.SendWithContext(call.trace(ctx), req)
	return resp, call, err
}

// sendGridStatusError classifies a non-2xx SendGrid response: 429 and 5xx
// are Transient, every 4xx Permanent; SendGrid has no send-time
// revoke-consent error (unsubscribes arrive as events).
func sendGridStatusError(resp *rest.Response) *ProviderError {
	pe := statusError("sendgrid", resp.StatusCode, fmt.Errorf("sendgrid: HTTP %d: %s", resp.StatusCode, resp.Body))
	pe.Message = sendGridMessage(resp.Body)
	if pe.Message == "" {
		pe.Message = http.StatusText(resp.StatusCode)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		pe.RetryAfter = minRetryAfter
		if reset, err := strconv.ParseInt(first(http.Header(resp.Headers).Values("X-RateLimit-Reset")), 10, 64); err == nil {
			pe.RetryAfter = max(time.Until(time.Unix(reset, 0)), minRetryAfter)
		}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		pe.Message = "SendGrid rejected the API key (" + pe.Message + "): check SendGridConfig.APIKey and its scopes"
	}
	return pe
}

// sendGridMessage joins the messages of SendGrid's {"errors": [...]} body.
func sendGridMessage(body string) string {
	var e struct {
		Errors []struct {
			Message string  `json:"message"`
			Field   *string `json:"field"`
		} `json:"errors"`
	}
	if json.Unmarshal([]byte(body), &e) != nil {
		return ""
	}
	parts := make([]string, 0, len(e.Errors))
	for _, x := range e.Errors {
		if x.Field != nil && *x.Field != "" {
			parts = append(parts, *x.Field+": "+x.Message)
		} else {
			parts = append(parts, x.Message)
		}
	}
	return redact(strings.Join(parts, "; "))
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
