package unsubscribe

import (
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/nudgehq/nudge/internal/logmask"
	"github.com/nudgehq/nudge/internal/vocab"
)

// Source is recorded in the consent ledger for a revocation from a link.
const Source = "email:unsubscribe-link"

// Revoke withdraws a client's email consent for the claim's purpose at
// the claim's address. It must be durable when it returns nil (the page
// then says "you're unsubscribed") and change nothing when it fails.
type Revoke func(ctx context.Context, c Claim, at time.Time) error

// Handler serves the unsubscribe links:
//
//   - GET /u/{token} shows a plain confirmation page with one button. It
//     changes nothing: mail scanners fetch links to check them.
//   - POST /u/{token} unsubscribes: the page's button, and RFC 8058
//     one-click (mail clients POST "List-Unsubscribe=One-Click").
//
// A token that does not open (forged, altered, cut off) is a 400 page
// and changes nothing. Everything else is the Revoke function's.
type Handler struct {
	Sealer   *Sealer
	Revoke   Revoke
	Practice string // named on the pages
	Logger   *slog.Logger
	Now      func() time.Time
}

// Routes returns the handler's routes, for mounting beside the API.
func (h *Handler) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /u/{token}":  http.HandlerFunc(h.confirm),
		"POST /u/{token}": http.HandlerFunc(h.unsubscribe),
	}
}

func (h *Handler) log() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

func (h *Handler) confirm(w http.ResponseWriter, r *http.Request) {
	c, err := h.Sealer.Open(r.PathValue("token"))
	if err != nil {
		h.page(w, http.StatusBadRequest, pageInvalid, Claim{})
		return
	}
	h.page(w, http.StatusOK, pageConfirm, c)
}

func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 4<<10)) // the one-click body says nothing more
	c, err := h.Sealer.Open(r.PathValue("token"))
	if err != nil {
		h.log().Warn("unsubscribe link refused", "err", err)
		h.page(w, http.StatusBadRequest, pageInvalid, Claim{})
		return
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if err := h.Revoke(r.Context(), c, now().UTC()); err != nil {
		h.log().Error("unsubscribing from a link", "client_id", c.ClientID, "purpose", c.Purpose, "err", err)
		h.page(w, http.StatusServiceUnavailable, pageRetry, c)
		return
	}
	h.log().Info("unsubscribed from a link", "client_id", c.ClientID, "purpose", c.Purpose, "delivery_id", c.DeliveryID)
	h.page(w, http.StatusOK, pageDone, c)
}

// Page kinds.
const (
	pageConfirm = "confirm"
	pageDone    = "done"
	pageInvalid = "invalid"
	pageRetry   = "retry"
)

func (h *Handler) page(w http.ResponseWriter, status int, kind string, c Claim) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	err := pages.Execute(w, map[string]any{
		"Kind": kind, "Practice": h.Practice, "What": purposeWords(c.Purpose), "Address": logmask.String(c.Address),
	})
	if err != nil {
		h.log().Warn("writing unsubscribe page", "err", errors.Unwrap(err))
	}
}

// purposeWords names what the emails are, in the words a client knows.
func purposeWords(p vocab.Purpose) string {
	switch p {
	case vocab.Reminders:
		return "appointment reminder"
	case vocab.Encouragement:
		return "encouragement"
	case vocab.Journal:
		return "journaling"
	case vocab.Announcements:
		return "support group"
	}
	return ""
}

var pages = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{if .Practice}}{{.Practice}}: {{end}}email preferences</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 34rem; margin: 3rem auto; padding: 0 1.25rem; line-height: 1.55; color: #222; }
button { font: inherit; padding: .6rem 1.4rem; border-radius: .4rem; border: 1px solid #555; background: #f4f4f4; cursor: pointer; }
</style>
</head>
<body>
{{- if eq .Kind "confirm"}}
<h1>Stop {{.What}} emails?</h1>
<p>We'll stop sending {{.What}} emails{{if .Practice}} from {{.Practice}}{{end}} to {{.Address}}. Other messages you asked for won't change.</p>
<form method="post"><button type="submit">Unsubscribe</button></form>
<p>If you'd rather keep them, you can simply close this page.</p>
{{- else if eq .Kind "done"}}
<h1>You're unsubscribed</h1>
<p>We won't send {{.What}} emails to {{.Address}} any more. If that changes, just let {{if .Practice}}{{.Practice}}{{else}}the practice{{end}} know.</p>
<p>Take good care of yourself.</p>
{{- else if eq .Kind "retry"}}
<h1>That didn't go through</h1>
<p>We couldn't save your choice just now, so nothing has changed yet. Please try again in a minute.</p>
<form method="post"><button type="submit">Try again</button></form>
{{- else}}
<h1>This link doesn't work</h1>
<p>It may have been cut short when it was copied. Please use the unsubscribe link in the email itself, or let {{if .Practice}}{{.Practice}}{{else}}the practice{{end}} know and they'll stop the emails for you.</p>
{{- end}}
</body>
</html>
`))
