package webhook

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	"github.com/twilio/twilio-go/client"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/consumers/inbound"
	"github.com/nudgehq/nudge/internal/consent"
	"github.com/nudgehq/nudge/internal/httpjson"
	"github.com/nudgehq/nudge/internal/store"
)

// Paths the handlers serve. The deliverer's Twilio StatusCallbackURL is
// PublicURL + PathTwilioStatus; the Twilio number's messaging webhook is
// PublicURL + PathTwilioInbound; SendGrid's event webhook URL is PublicURL
// + PathSendGridEvents.
const (
	PathTwilioStatus   = "/webhooks/twilio/status"
	PathTwilioInbound  = "/webhooks/twilio/inbound"
	PathSendGridEvents = "/webhooks/sendgrid/events"
)

// DefaultSendGridMaxAge is how old a SendGrid event webhook timestamp may
// be. The SDK's verifier accepts any timestamp, so without this window a
// captured request could be replayed forever.
const DefaultSendGridMaxAge = 10 * time.Minute

// sendGridMaxFuture tolerates clock skew the other way.
const sendGridMaxFuture = time.Minute

// Body limits: Twilio forms are a few hundred bytes (an SMS body is at most
// 1600 characters); SendGrid batches events and may post a few MB.
const (
	maxFormBytes   = 64 << 10
	maxEventsBytes = 8 << 20
)

// processTimeout bounds the work for one request. The work runs on a
// context detached from the request's, so a provider that hangs up does not
// abort it halfway.
const processTimeout = 30 * time.Second

// Config wires the webhook handlers to the rest of nudge.
type Config struct {
	// Store is nudge's durable record. Required.
	Store store.Store
	// Dispatcher queues replies and emits events. Required.
	Dispatcher consumers.Dispatcher
	// PublicURL is where providers reach nudge (NUDGE_PUBLIC_URL), e.g.
	// "https://nudge.example.org". Twilio signs the URL it called, which
	// behind a proxy differs from the one nudge sees, so the handler
	// rebuilds it as PublicURL + the request URI. Required with
	// TwilioAuthToken.
	PublicURL string
	// TwilioAuthToken verifies X-Twilio-Signature. Without it the Twilio
	// routes are not served.
	TwilioAuthToken string
	// Inbound queues incoming messages for the inbound consumer (package
	// consumers/inbound). Required with TwilioAuthToken.
	Inbound inbound.Publisher
	// SendGridPublicKey verifies the event webhook: the base64 key as
	// SendGrid's settings page shows it. Without it the SendGrid route is
	// not served. At least one provider is required.
	SendGridPublicKey string
	// SendGridMaxAge bounds the age of an event webhook timestamp; 0 means
	// DefaultSendGridMaxAge. Timestamps more than a minute in the future are
	// refused as well.
	SendGridMaxAge time.Duration
	// CalcomSecret is reserved for the Cal.com webhook, which this package
	// does not serve yet; it is not read.
	CalcomSecret string
	// Logger receives one line per refused or failed request. Addresses
	// are masked; bodies are never logged. Nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// validate checks cfg and names every field that is wrong.
func (c *Config) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("webhook: Config.Store is required"))
	}
	if c.Dispatcher == nil {
		errs = append(errs, errors.New("webhook: Config.Dispatcher is required"))
	}
	if c.TwilioAuthToken == "" && c.SendGridPublicKey == "" {
		errs = append(errs, errors.New("webhook: Config.TwilioAuthToken or Config.SendGridPublicKey is required (a provider to receive from)"))
	}
	if c.TwilioAuthToken != "" && c.Inbound == nil {
		errs = append(errs, errors.New("webhook: Config.Inbound is required with TwilioAuthToken (incoming messages are queued for the inbound consumer)"))
	}
	if c.TwilioAuthToken != "" {
		if c.PublicURL == "" {
			errs = append(errs, errors.New("webhook: Config.PublicURL is required with TwilioAuthToken (Twilio signs the public URL)"))
		} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("webhook: Config.PublicURL %q is not an absolute http(s) URL without query", c.PublicURL))
		}
	}
	if c.SendGridPublicKey != "" {
		if _, err := sendGridKey(c.SendGridPublicKey); err != nil {
			errs = append(errs, fmt.Errorf("webhook: Config.SendGridPublicKey: %w", err))
		}
	}
	if c.SendGridMaxAge < 0 {
		errs = append(errs, errors.New("webhook: Config.SendGridMaxAge must not be negative"))
	}
	return errors.Join(errs...)
}

// sendGridKey parses the verification key. The SDK's converter panics on
// a key that is not ECDSA, so the type is checked first.
func sendGridKey(b64 string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errors.New("not base64")
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("not a PKIX public key")
	}
	if _, ok := pub.(*ecdsa.PublicKey); !ok {
		return nil, fmt.Errorf("a %T, not the ECDSA key SendGrid shows", pub)
	}
	return eventwebhook.ConvertPublicKeyBase64ToECDSA(strings.TrimSpace(b64))
}

// Handler serves the provider webhooks. Create it with [New].
type Handler struct {
	cfg       Config
	log       *slog.Logger
	publicURL string                   // without a trailing slash
	twilio    *client.RequestValidator // nil: Twilio not configured
	sendgrid  *ecdsa.PublicKey         // nil: SendGrid not configured
	consent   *consent.Ledger          // every opt-out and opt-in
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SendGridMaxAge == 0 {
		cfg.SendGridMaxAge = DefaultSendGridMaxAge
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, publicURL: strings.TrimSuffix(cfg.PublicURL, "/")}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	var err error
	h.consent, err = consent.New(consent.Config{Store: cfg.Store, Emitter: cfg.Dispatcher, Now: h.now, Logger: h.log})
	if err != nil {
		return nil, err
	}
	if cfg.TwilioAuthToken != "" {
		v := client.NewRequestValidator(cfg.TwilioAuthToken)
		h.twilio = &v
	}
	if cfg.SendGridPublicKey != "" {
		h.sendgrid, _ = sendGridKey(cfg.SendGridPublicKey) // checked by validate
	}
	return h, nil
}

// Routes returns the webhook routes of the configured providers, keyed by
// http.ServeMux pattern. They authenticate by signature, not by API token.
func (h *Handler) Routes() map[string]http.Handler {
	routes := map[string]http.Handler{}
	if h.twilio != nil {
		routes["POST "+PathTwilioStatus] = http.HandlerFunc(h.serveTwilioStatus)
		routes["POST "+PathTwilioInbound] = http.HandlerFunc(h.serveTwilioInbound)
	}
	if h.sendgrid != nil {
		routes["POST "+PathSendGridEvents] = http.HandlerFunc(h.serveSendGridEvents)
	}
	return routes
}

func (h *Handler) now() time.Time { return h.cfg.Now().UTC() }

// work returns the context a request's state changes run in: detached from
// the request, bounded by processTimeout.
func work(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), processTimeout)
}

// webhookError is the one shape of an error response: a stable code, the
// status and a sentence. It never echoes what was received.
type webhookError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

var (
	errUnsigned     = webhookError{http.StatusForbidden, "unsigned", "the request carries no provider signature"}
	errBadSignature = webhookError{http.StatusForbidden, "bad_signature", "the provider signature does not match"}
	errStale        = webhookError{http.StatusForbidden, "stale_timestamp", "the signed timestamp is outside the accepted window"}
	errTooLarge     = webhookError{http.StatusRequestEntityTooLarge, "body_too_large", "request body is larger than the limit"}
	errBadRequest   = webhookError{http.StatusBadRequest, "bad_request", "the request is not the provider's format"}
	errInternal     = webhookError{http.StatusInternalServerError, "internal", "internal error; the request may be retried"}
	errNotFound     = webhookError{http.StatusNotFound, "not_found", "no such resource"}
	errUnavailable  = webhookError{http.StatusServiceUnavailable, "unavailable", "the message could not be queued; the request may be retried"}
)

func writeJSON(w http.ResponseWriter, status int, v any) { httpjson.Write(w, status, v) }

func writeError(w http.ResponseWriter, e webhookError) {
	writeJSON(w, e.Status, map[string]any{"error": e})
}

// readBody reads at most limit bytes of the body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *webhookError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &errTooLarge
		}
		return nil, &errBadRequest
	}
	return body, nil
}

// refuse answers a request that failed verification and logs why, without
// anything the request carried.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, e webhookError) {
	h.log.Warn("webhook refused", "path", r.URL.Path, "code", e.Code, "status", e.Status)
	writeError(w, e)
}

// fail answers a request whose processing failed: 500, so the provider
// retries, which is safe because every step is idempotent.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("webhook failed", "path", r.URL.Path, "err", err)
	writeError(w, errInternal)
}
