package main

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nudgehq/nudge/internal/app"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/logmask"
	"github.com/nudgehq/nudge/internal/unsubscribe"
)

// unsubscribeSecret is --unsubscribe-secret, or one derived from the API
// token (HMAC-SHA256), so serve needs no extra setting; rotating the API
// token then invalidates the links in emails already sent, which setting
// NUDGE_UNSUBSCRIBE_SECRET avoids.
func (s *serveCmd) unsubscribeSecret() string {
	if s.UnsubscribeSecret != "" {
		return s.UnsubscribeSecret
	}
	mac := hmac.New(sha256.New, []byte(s.APIToken))
	mac.Write([]byte("nudge unsubscribe links"))
	return hex.EncodeToString(mac.Sum(nil))
}

type serveCmd struct {
	HTTP              string `help:"HTTP listen address for the API, webhooks and console." default:":8080"`
	MetricsListen     string `name:"metrics-listen" help:"Serve /metrics, /healthz and /readyz on this address instead of the HTTP address (keeps /metrics off the public port)." placeholder:"ADDR"`
	APIToken          string `help:"API token for the HTTP API and console (at least 32 characters)."`
	UnsubscribeSecret string `name:"unsubscribe-secret" help:"Secret that seals email unsubscribe links (at least 32 characters); derived from the API token when empty." placeholder:"SECRET"`
	DatabaseURL       string `help:"Postgres connection URL, e.g. postgres://nudge@db:5432/nudge?sslmode=verify-full." placeholder:"URL"`
	NoMigrate         bool   `help:"Do not apply database migrations at start (then the schema must already be current)."`

	NATSURL      string `name:"nats-url" help:"NATS server URL(s), comma-separated." placeholder:"URL"`
	NATSCreds    string `name:"nats-creds" help:"NATS credentials file (.creds)." type:"existingfile" placeholder:"FILE"`
	NATSNKey     string `name:"nats-nkey" help:"NATS nkey seed file." type:"existingfile" placeholder:"FILE"`
	NATSUser     string `name:"nats-user" help:"NATS user name."`
	NATSPassword string `name:"nats-password" help:"NATS password."`
	NATSToken    string `name:"nats-token" help:"NATS token."`
	NATSTLSCA    string `name:"nats-tls-ca" help:"CA certificate for the NATS TLS connection." type:"existingfile" placeholder:"FILE"`
	NATSTLSCert  string `name:"nats-tls-cert" help:"Client certificate for NATS mutual TLS." type:"existingfile" placeholder:"FILE"`
	NATSTLSKey   string `name:"nats-tls-key" help:"Client key for NATS mutual TLS." type:"existingfile" placeholder:"FILE"`
	Replicas     int    `help:"JetStream replicas for nudge's streams (3 for a production cluster)." default:"3"`

	StartTimeout time.Duration `name:"start-timeout" help:"How long to wait at start for NATS, JetStream leaders and Postgres (they often start together with nudge)." default:"2m"`

	reminderFlags      `embed:""`
	onCallFlags        `embed:""`
	encouragementFlags `embed:""`
	providerFlags      `embed:""`
}

// validate names every missing or invalid setting at once, so an operator
// fixes the configuration in one pass. serve never falls back to dev parts.
func (s *serveCmd) validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if s.DatabaseURL == "" {
		add("NUDGE_DATABASE_URL (--database-url) is required: the Postgres URL, e.g. postgres://nudge@db:5432/nudge")
	} else if u, err := url.Parse(s.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		add("NUDGE_DATABASE_URL (--database-url) must be a postgres:// URL")
	}
	if s.NATSURL == "" {
		add("NUDGE_NATS_URL (--nats-url) is required: the NATS cluster, e.g. nats://nats-1:4222,nats://nats-2:4222")
	} else {
		for _, raw := range strings.Split(s.NATSURL, ",") {
			u, err := url.Parse(strings.TrimSpace(raw))
			if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss") {
				add("NUDGE_NATS_URL (--nats-url) has an invalid URL %q (want nats://host:port or tls://host:port)", logmask.Credentials(raw))
			}
		}
	}
	if s.APIToken == "" {
		add("NUDGE_API_TOKEN (--api-token) is required: a random secret of at least 32 characters (e.g. openssl rand -base64 32)")
	} else if len(s.APIToken) < 32 {
		add("NUDGE_API_TOKEN (--api-token) is too short: use at least 32 characters")
	}
	if _, _, err := net.SplitHostPort(s.HTTP); err != nil {
		add("NUDGE_HTTP (--http) %q is not a host:port address", s.HTTP)
	}
	if _, _, err := net.SplitHostPort(s.MetricsListen); s.MetricsListen != "" && err != nil {
		add("NUDGE_METRICS_LISTEN (--metrics-listen) %q is not a host:port address", s.MetricsListen)
	}
	if s.StartTimeout < 0 || s.StartTimeout > 0 && s.StartTimeout < time.Second {
		add("NUDGE_START_TIMEOUT (--start-timeout) must be at least 1s, got %v", s.StartTimeout)
	}
	if s.UnsubscribeSecret != "" && len(s.UnsubscribeSecret) < unsubscribe.MinSecretLength {
		add("NUDGE_UNSUBSCRIBE_SECRET (--unsubscribe-secret) is too short: use at least %d characters, or leave it empty to derive it from the API token", unsubscribe.MinSecretLength)
	}
	if s.Replicas < 1 || s.Replicas > 5 {
		add("NUDGE_REPLICAS (--replicas) must be 1 to 5, got %d", s.Replicas)
	}
	if (s.NATSTLSCert == "") != (s.NATSTLSKey == "") {
		add("NUDGE_NATS_TLS_CERT and NUDGE_NATS_TLS_KEY go together: set both or neither")
	}
	if s.NATSPassword != "" && s.NATSUser == "" {
		add("NUDGE_NATS_PASSWORD is set without NUDGE_NATS_USER")
	}
	if s.ReminderStaleness < 0 || s.ReminderStaleness > 0 && s.ReminderStaleness < time.Second {
		add("NUDGE_REMINDER_STALENESS (--reminder-staleness) must be at least 1s, got %v", s.ReminderStaleness)
	}
	problems = append(problems, s.providerFlags.problems()...)
	if len(problems) > 0 {
		return errors.New("nudge serve cannot start; fix its configuration:\n  - " + strings.Join(problems, "\n  - "))
	}
	return nil
}

func (s *serveCmd) Run(g *globals) error {
	if err := s.validate(); err != nil {
		return err
	}
	host, _ := os.Hostname()
	return app.Run(g.ctx, app.Config{
		Mode:              "serve",
		HTTPAddr:          s.HTTP,
		MetricsAddr:       s.MetricsListen,
		APIToken:          s.APIToken,
		UnsubscribeSecret: s.unsubscribeSecret(),
		NATS: bus.ExternalConfig{
			URL: s.NATSURL, CredsFile: s.NATSCreds, NKeyFile: s.NATSNKey,
			User: s.NATSUser, Pass: s.NATSPassword, Token: s.NATSToken,
			TLSCAFile: s.NATSTLSCA, TLSCertFile: s.NATSTLSCert, TLSKeyFile: s.NATSTLSKey,
			Name: "nudge-serve@" + host,
		},
		Topology:      bus.DefaultTopology(s.Replicas),
		OpenStore:     openPostgres(s.DatabaseURL, !s.NoMigrate, cmp.Or(s.StartTimeout, bus.DefaultStartTimeout), g.logger),
		StartTimeout:  s.StartTimeout,
		Delivery:      s.delivery(s.QuietHours),
		Reminders:     s.reminders(),
		OnCall:        s.onCall(),
		Encouragement: s.encouragement(),
		Calcom:        s.calcom(),
		Logger:        g.logger,
		Out:           g.stdout,
	})
}
