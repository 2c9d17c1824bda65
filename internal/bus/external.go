package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/nudgehq/nudge/internal/logmask"
)

// MinServerVersion is the oldest NATS server nudge runs against: 2.12
// brought JetStream message schedules, which reminders are built on, and
// 2.14 cron schedules in a time zone (Nats-Schedule-Time-Zone), which
// encouragement texts are built on.
const MinServerVersion = "2.14.0"

// ErrServerTooOld is returned by CheckServerVersion.
var ErrServerTooOld = errors.New("nats server too old")

// ExternalConfig says how `nudge serve` reaches its NATS cluster.
type ExternalConfig struct {
	URL         string // one or more comma-separated nats:// or tls:// URLs
	CredsFile   string // decentralised auth (.creds)
	NKeyFile    string // nkey seed file
	User, Pass  string
	Token       string
	TLSCAFile   string
	TLSCertFile string
	TLSKeyFile  string
	Name        string
	// Logger hears what Connect waits for.
	Logger *slog.Logger
}

// Connect dials the external cluster and checks its version. A cluster
// that is not up yet is waited for (retrying, and saying so) until ctx
// ends: replicas and NATS nodes of one deployment start together.
func Connect(ctx context.Context, cfg ExternalConfig) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.Timeout(5 * time.Second),
		nats.RetryOnFailedConnect(true),
	}
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.NKeyFile != "" {
		o, err := nats.NkeyOptionFromSeed(cfg.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("bus: reading nkey seed %s: %w", cfg.NKeyFile, err)
		}
		opts = append(opts, o)
	}
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Pass))
	}
	if cfg.Token != "" {
		opts = append(opts, nats.Token(cfg.Token))
	}
	if cfg.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.TLSCAFile))
	}
	if cfg.TLSCertFile != "" || cfg.TLSKeyFile != "" {
		opts = append(opts, nats.ClientCert(cfg.TLSCertFile, cfg.TLSKeyFile))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("bus: connecting to nats at %s: %w", logmask.Credentials(cfg.URL), err)
	}
	err = Retry(ctx, cfg.Logger, "a connection to NATS at "+logmask.Credentials(cfg.URL), func(context.Context) error {
		if nc.IsConnected() {
			return nil
		}
		if last := nc.LastError(); last != nil {
			if errors.Is(last, nats.ErrAuthorization) || errors.Is(last, nats.ErrAuthExpired) || errors.Is(last, nats.ErrAuthRevoked) {
				return &stopRetry{fmt.Errorf("bus: nats at %s refused nudge's credentials: %w", logmask.Credentials(cfg.URL), last)}
			}
			return fmt.Errorf("%s: %w", nc.Status(), last)
		}
		return errors.New(nc.Status().String())
	})
	if err != nil {
		nc.Close()
		return nil, err
	}
	if err := CheckServerVersion(nc.ConnectedServerVersion()); err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

// CheckServerVersion returns ErrServerTooOld (wrapped with a plain
// explanation) when version is older than MinServerVersion.
func CheckServerVersion(version string) error {
	if compareVersions(version, MinServerVersion) < 0 {
		return fmt.Errorf("%w: the server is %s, nudge needs NATS %s or newer (JetStream message schedules, cron schedules in a time zone); upgrade the cluster", ErrServerTooOld, version, MinServerVersion)
	}
	return nil
}

// compareVersions compares dotted numeric versions, ignoring any
// pre-release or build suffix ("2.12.0-beta.1" compares as 2.12.0).
func compareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := range 3 {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func versionParts(v string) [3]int {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		v = v[:i]
	}
	var out [3]int
	for i, p := range strings.SplitN(v, ".", 3) {
		n, _ := strconv.Atoi(p)
		out[i] = n
	}
	return out
}
