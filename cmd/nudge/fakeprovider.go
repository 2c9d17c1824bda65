package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/nudgehq/nudge/internal/fakeprovider"
)

// fakeProviderCmd runs the in-repo fake Twilio and SendGrid as a process of
// their own, so `nudge serve` (production wiring, unmodified) can be pointed
// at them with NUDGE_TWILIO_API_URL and NUDGE_SENDGRID_API_URL — in the
// fault test, in a compose stack on a laptop, or in a staging cluster.
type fakeProviderCmd struct {
	Listen string `help:"Listen address; Twilio is served under /twilio, SendGrid under /sendgrid." default:"127.0.0.1:8025"`

	TwilioAccountSID string        `name:"twilio-account-sid" help:"Account SID the fake Twilio accepts." default:"AC00000000000000000000000000000000"`
	TwilioAuthToken  string        `name:"twilio-auth-token" help:"Auth token the fake Twilio accepts and signs webhooks with (alphanumeric). Random when empty; GET /twilio/_fake/auth-token shows it."`
	TwilioStatus     time.Duration `name:"twilio-status-delay" help:"Pause before each status change and its callback." default:"200ms"`
	SendGridAPIKey   string        `name:"sendgrid-api-key" help:"API key the fake SendGrid accepts. Random when empty; GET /sendgrid/_fake/api-key shows it."`
	SendGridWebhook  string        `name:"sendgrid-webhook-url" help:"Where the fake SendGrid posts its signed event webhook (POST /sendgrid/_fake/event-webhook-url changes it)." placeholder:"URL"`
	SendGridDelay    time.Duration `name:"sendgrid-event-delay" help:"Pause before each event batch." default:"200ms"`
	Keep             int           `help:"Messages and webhook calls each fake remembers, the newest (0: every one; the same default as nudge dev)." default:"10000"`
}

func (f *fakeProviderCmd) Run(g *globals) error {
	if f.Keep < 0 {
		return fmt.Errorf("--keep is a number of messages, 0 or more (0: every one); got %d", f.Keep)
	}
	tw := fakeprovider.NewTwilio(fakeprovider.TwilioConfig{AccountSid: f.TwilioAccountSID, AuthToken: f.TwilioAuthToken, StatusDelay: f.TwilioStatus, Keep: f.Keep})
	sgCfg := fakeprovider.SendGridConfig{EventWebhookURL: f.SendGridWebhook, EventDelay: f.SendGridDelay, Keep: f.Keep}
	if f.SendGridAPIKey != "" {
		sgCfg.APIKeys = []string{f.SendGridAPIKey}
	}
	sg := fakeprovider.NewSendGrid(sgCfg)
	defer tw.Close()
	defer sg.Close()

	mux := http.NewServeMux()
	mux.Handle("/twilio/", http.StripPrefix("/twilio", tw))
	mux.Handle("/sendgrid/", http.StripPrefix("/sendgrid", sg))
	text := func(s func() string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte(s()))
		}
	}
	mux.HandleFunc("GET /twilio/_fake/auth-token", text(tw.AuthToken))
	mux.HandleFunc("GET /twilio/_fake/account-sid", text(tw.AccountSid))
	mux.HandleFunc("GET /sendgrid/_fake/api-key", text(sg.APIKey))
	mux.HandleFunc("POST /sendgrid/_fake/event-webhook-url", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			URL string `json:"url"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `send {"url": "http://…/webhooks/sendgrid/events"}`, http.StatusBadRequest)
			return
		}
		sg.SetEventWebhookURL(req.URL)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })

	ln, err := net.Listen("tcp", f.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", f.Listen, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(g.stdout, `nudge fakeprovider is running (nothing leaves this machine)

  NUDGE_TWILIO_API_URL=%s/twilio
  NUDGE_TWILIO_ACCOUNT_SID=%s
  NUDGE_TWILIO_AUTH_TOKEN=%s
  NUDGE_SENDGRID_API_URL=%s/sendgrid
  NUDGE_SENDGRID_API_KEY=%s
  NUDGE_SENDGRID_WEBHOOK_KEY=%s

  captured: GET %s/twilio/_fake/messages, GET %s/sendgrid/_fake/messages
`, base, tw.AccountSid(), tw.AuthToken(), base, sg.APIKey(), sg.PublicKey(), base, base)

	select {
	case <-g.ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("fakeprovider: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}
