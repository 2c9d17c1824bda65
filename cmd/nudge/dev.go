package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/app"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/pacing"
	"github.com/nudgehq/nudge/internal/staff"
	"github.com/nudgehq/nudge/internal/vocab"
)

type devCmd struct {
	DataDir           string `help:"Where dev mode keeps its NATS file store, SQLite database and API token." default:"./.nudge" type:"path"`
	HTTP              string `help:"HTTP listen address for the API and console." default:"127.0.0.1:8080"`
	MetricsListen     string `name:"metrics-listen" help:"Serve /metrics, /healthz and /readyz on this address instead of the HTTP address (keeps /metrics off the public port)." placeholder:"ADDR"`
	NATSListen        string `name:"nats-listen" help:"Also accept NATS clients on this address (e.g. 127.0.0.1:4223). Off by default so dev never fights over port 4222." placeholder:"ADDR"`
	APIToken          string `help:"API token; generated and saved in the data dir when empty."`
	UnsubscribeSecret string `name:"unsubscribe-secret" help:"Secret that seals email unsubscribe links (32+ characters); generated and saved in the data dir when empty."`
	NoMigrate         bool   `help:"Do not apply database migrations at start."`

	PracticeName     string        `help:"Practice name used in messages." default:"Harbor Practice"`
	CrisisLine       string        `help:"Crisis line named in crisis replies and footers." default:"988"`
	TemplatesDir     string        `help:"Directory of template overrides." type:"existingdir" placeholder:"DIR"`
	DeliverWorkers   int           `name:"deliver-workers" help:"Notifications the process sends at once (pacing still holds each channel's rate)." default:"32"`
	SMSRate          float64       `name:"sms-rate" help:"SMS per second, shared by all processes (a Twilio long code sends about 1)." default:"1"`
	EmailRate        float64       `name:"email-rate" help:"Email requests per second, shared by all processes." default:"10"`
	TwilioAccountSID string        `name:"twilio-account-sid" help:"Account SID of the dev fake Twilio." default:"AC00000000000000000000000000000000"`
	TwilioAuthToken  string        `name:"twilio-auth-token" help:"Auth token of the dev fake Twilio; it signs webhooks with it. Generated and saved in the data dir when empty."`
	NotifyAckWait    time.Duration `name:"notify-ack-wait" help:"How long a worker may hold a notification before JetStream redelivers it." default:"60s"`
	NotifyMaxDeliver int           `name:"notify-max-deliver" help:"Tries of a notification before it is dead-lettered." default:"12"`
	TwilioBaseURL    string        `name:"twilio-base-url" help:"Use this Twilio API (e.g. a fake run by a test) instead of the built-in fake." placeholder:"URL"`

	reminderFlags      `embed:""`
	onCallFlags        `embed:""`
	encouragementFlags `embed:""`
}

func (d *devCmd) Run(g *globals) error {
	if err := os.MkdirAll(d.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	unlock, err := lockDataDir(d.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	token, err := devSecret(d.DataDir, "api-token", d.APIToken, apiSecret)
	saved := ""
	if d.APIToken == "" {
		saved = filepath.Join(d.DataDir, "api-token")
	}
	if err != nil {
		return err
	}
	adminPassword, err := devSecret(d.DataDir, "admin-password", "", staff.GeneratePassword)
	if err != nil {
		return err
	}
	publicURL := "http://" + d.HTTP
	twilioToken, err := devSecret(d.DataDir, "twilio-auth-token", d.TwilioAuthToken, hexSecret)
	if err != nil {
		return err
	}
	unsubscribeSecret, err := devSecret(d.DataDir, "unsubscribe-secret", d.UnsubscribeSecret, apiSecret)
	if err != nil {
		return err
	}
	fakes, err := startDevProviders(publicURL, d.TwilioAccountSID, twilioToken)
	if err != nil {
		return err
	}
	defer fakes.Close()
	twilioCfg := fakes.twilioConfig(publicURL)
	if d.TwilioBaseURL != "" {
		twilioCfg.BaseURL = d.TwilioBaseURL
	}
	dbPath := filepath.Join(d.DataDir, "nudge.db")
	jsDir := filepath.Join(d.DataDir, "jetstream")
	cfg := app.Config{
		Mode:              "dev",
		HTTPAddr:          d.HTTP,
		MetricsAddr:       d.MetricsListen,
		APIToken:          token,
		UnsubscribeSecret: unsubscribeSecret,
		EmbeddedNATS:      &bus.EmbeddedConfig{StoreDir: jsDir, ListenAddr: d.NATSListen, SyncAlways: true},
		Topology:          devTopology(d.NotifyAckWait, d.NotifyMaxDeliver),
		OpenStore:         openSQLite(dbPath, !d.NoMigrate),
		Delivery: app.Delivery{
			Twilio:       twilioCfg,
			SendGrid:     fakes.sendgridConfig(),
			Practice:     consumers.Practice{Name: d.PracticeName, PostalAddress: "1 Example Street, Springfield", CrisisLine: d.CrisisLine, PublicURL: publicURL},
			TemplatesDir: d.TemplatesDir,
			// Like a Twilio long code and a modest SendGrid plan.
			Rates:              pacing.Limits{string(vocab.SMS): d.SMSRate, string(vocab.Email): d.EmailRate},
			QuietHours:         d.QuietHours,
			SendGridWebhookKey: fakes.sendgrid.PublicKey(),
			Workers:            d.DeliverWorkers,
		},
		ExtraAuthed: map[string]http.Handler{
			"GET /v1/dev/outbox":   fakes.outbox(),
			"POST /v1/dev/inbound": fakes.inbound(publicURL),
		},
		InitialAdmin:  &app.InitialAdmin{Email: devAdminEmail, Password: adminPassword},
		Reminders:     d.reminders(),
		OnCall:        d.onCall(),
		Encouragement: d.encouragement(),
		Calcom:        d.calcom(),
		Logger:        g.logger,
		Out:           g.stdout,
		Banner: func(w io.Writer, addr string) {
			natsLine := "embedded, in-process only (add --nats-listen ADDR for outside clients)"
			if d.NATSListen != "" {
				natsLine = "embedded, also listening on nats://" + d.NATSListen
			}
			tokenNote := "from --api-token / NUDGE_API_TOKEN"
			if saved != "" {
				tokenNote = "saved in " + saved
			}
			fmt.Fprintf(w, `
nudge dev is running

  NATS JetStream  %s
                  file store %s
  store           SQLite %s
  HTTP API        http://%s/v1/
  console         http://%s/
                  log in as %s, password %s
                  (saved in %s; made on the first start)
  API token       %s
                  (%s)

Try it (in another terminal, from this directory):

  go run ./cmd/nudge publish --server http://%s --token %s client.upserted --data '{"client_id":"c_1","first_name":"Ada","timezone":"America/New_York","phone":"+14155550123"}'
  curl -s -H 'Authorization: Bearer %s' http://%s/v1/clients/c_1

Ctrl-C stops nudge; everything is kept in %s.
`, natsLine, jsDir, dbPath, addr, addr, devAdminEmail, adminPassword, filepath.Join(d.DataDir, "admin-password"), token, tokenNote, addr, token, token, addr, d.DataDir)
		},
	}
	return app.Run(g.ctx, cfg)
}

// devAdminEmail is the login of the admin dev mode creates on its first start.
const devAdminEmail = "admin@localhost"

func devTopology(ackWait time.Duration, maxDeliver int) bus.Topology {
	t := bus.DefaultTopology(1)
	t.NotifyAckWait = ackWait
	t.NotifyMaxDeliver = maxDeliver
	return t
}

// devSecret returns the given secret, or the one saved in dataDir under
// name, or a new one from gen that it saves there (0600), so dev mode keeps
// its API token and fake-provider credentials across restarts.
func devSecret(dataDir, name, given string, gen func() string) (string, error) {
	if given != "" {
		return given, nil
	}
	path := filepath.Join(dataDir, name)
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	secret := gen()
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("saving %s: %w", path, err)
	}
	return secret, nil
}

func apiSecret() string {
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	return "ndg_" + base64.RawURLEncoding.EncodeToString(raw)
}

// hexSecret suits Twilio, whose SDK accepts only alphanumeric tokens.
func hexSecret() string {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw)
	return hex.EncodeToString(raw)
}
