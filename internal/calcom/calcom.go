// Package calcom receives Cal.com booking webhooks and turns them into
// nudge's session events (PRODUCT.md: booking systems emit events through
// webhook adapters).
//
//	POST /webhooks/calcom
//
// A request is verified before anything else (invariant 11 in docs/invariants.md): Cal.com signs
// the raw body with the webhook's secret key, HMAC-SHA256 in hex, in
// X-Cal-Signature-256. A missing or wrong signature gets 403 and changes
// nothing; without a configured secret the route answers 503 and says how
// to configure it, so an unsigned webhook is never accepted.
//
// BOOKING_CREATED becomes client.upserted (the attendee) and session.booked;
// BOOKING_RESCHEDULED client.upserted and session.rescheduled;
// BOOKING_CANCELLED session.cancelled. They are published through package
// publishers like every other event (validation, PubAck, Nats-Msg-Id), with
// ids derived from the booking, so a repeated webhook is a duplicate (see
// [Mapping.Map] for ids, session ids and client ids).
//
// Cal.com knows nothing about consent: reminders for a Cal.com booking go
// out once the practice records the client's consent (consent.granted).
// Nor does it prove who booked: a booking never silently replaces an
// existing client's phone or email (see [Config.TrustContact]).
package calcom

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/httpjson"
	"github.com/nudgehq/nudge/publishers"
)

// Path is where Cal.com posts (the webhook's subscriber URL is
// PublicURL + Path).
const Path = "/webhooks/calcom"

// SignatureHeader carries the hex HMAC-SHA256 of the raw body.
const SignatureHeader = "X-Cal-Signature-256"

// maxBody bounds a webhook body; booking payloads are a few KB.
const maxBody = 1 << 20

// Publisher is the part of publishers.Publisher the handler needs.
type Publisher interface {
	Publish(ctx context.Context, e publishers.Event) (publishers.PublishResult, error)
}

// Config configures the webhook.
type Config struct {
	// Secret is the secret key of the webhook in Cal.com
	// (NUDGE_CALCOM_SECRET). Without it the route refuses every request.
	Secret string
	// TrustContact lets a booking replace an existing client's phone or
	// email (NUDGE_CALCOM_TRUST_CONTACT). Off by default: anyone can book
	// with anyone's email, so a changed contact goes to the staff inbox to
	// confirm and the stored one stays (the ingest consumer decides; see
	// consumers.Ingest.UntrustedContactSources).
	TrustContact bool
	Mapping
}

// Handler serves POST /webhooks/calcom.
type Handler struct {
	cfg Config
	pub Publisher
	log *slog.Logger
}

// NewHandler returns the webhook handler.
func NewHandler(cfg Config, pub Publisher, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, pub: pub, log: log}
}

// Routes returns the route for the HTTP server to mount as it is (the
// handler verifies its own signature; it is not behind the API token).
func (h *Handler) Routes() map[string]http.Handler {
	return map[string]http.Handler{"POST " + Path: h}
}

// Verify reports whether signature (hex, as in X-Cal-Signature-256) is the
// HMAC-SHA256 of body under secret. The comparison is constant time.
func Verify(secret string, body []byte, signature string) bool {
	if secret == "" || signature == "" {
		return false
	}
	got, err := hex.DecodeString(strings.TrimSpace(signature))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Cal-Signature-256 value for body: what Cal.com sends.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

type accepted struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Duplicate bool   `json:"duplicate"`
}

// ServeHTTP verifies, maps and publishes one webhook.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Secret == "" {
		writeError(w, http.StatusServiceUnavailable, "calcom_not_configured",
			"the Cal.com webhook is not configured: set NUDGE_CALCOM_SECRET (--calcom-secret) to the secret key of the webhook in Cal.com")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "webhook body over 1 MiB or unreadable")
		return
	}
	if !Verify(h.cfg.Secret, body, r.Header.Get(SignatureHeader)) {
		h.log.Warn("calcom webhook refused: bad signature", "signed", r.Header.Get(SignatureHeader) != "")
		writeError(w, http.StatusForbidden, "bad_signature",
			"missing or invalid "+SignatureHeader+": it must be the hex HMAC-SHA256 of the body with the webhook's secret")
		return
	}
	events, ignored, err := h.cfg.Map(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "unmappable_booking", err.Error())
		return
	}
	if ignored {
		writeJSON(w, http.StatusOK, map[string]any{"ignored": true})
		return
	}
	// Publish on a context detached from the request's: a Cal.com that
	// hangs up must not leave the client published without its session.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 15*time.Second)
	defer cancel()
	out := make([]accepted, 0, len(events))
	for _, ev := range events {
		res, err := h.pub.Publish(ctx, ev)
		if err != nil {
			if errors.Is(err, publishers.ErrInvalidEvent) {
				writeError(w, http.StatusBadRequest, "unmappable_booking", err.Error())
				return
			}
			h.log.Error("calcom webhook: publishing", "event_id", ev.ID, "type", ev.Type, "err", err)
			writeError(w, http.StatusServiceUnavailable, "unavailable",
				"event bus unavailable; Cal.com's retry is safe (repeats are recorded once)")
			return
		}
		out = append(out, accepted{ID: ev.ID, Type: ev.Type, Duplicate: res.Duplicate})
	}
	h.log.Info("calcom webhook accepted", "events", len(out))
	writeJSON(w, http.StatusOK, map[string]any{"accepted": out})
}

func writeJSON(w http.ResponseWriter, status int, v any) { httpjson.Write(w, status, v) }

// writeError uses the API's error shape: {"error": {"code", "message"}}.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}
