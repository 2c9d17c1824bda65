package webhook

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nudgehq/nudge/internal/store/sqlite"
)

func TestNewNamesWhatIsMissing(t *testing.T) {
	_, err := New(Config{})
	if err == nil {
		t.Fatal("New accepted an empty Config")
	}
	for _, field := range []string{"Config.Store", "Config.Dispatcher", "Config.TwilioAuthToken or Config.SendGridPublicKey"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}

	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "nudge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	base := Config{Store: st, Dispatcher: &recordingDispatcher{}}
	for name, c := range map[string]struct {
		mutate func(*Config)
		want   string
	}{
		"twilio without public URL": {func(c *Config) { c.TwilioAuthToken = "t" }, "Config.PublicURL is required"},
		"relative public URL":       {func(c *Config) { c.TwilioAuthToken, c.PublicURL = "t", "nudge.example.org" }, "Config.PublicURL"},
		"public URL with query":     {func(c *Config) { c.TwilioAuthToken, c.PublicURL = "t", "https://x.org/?a=1" }, "Config.PublicURL"},
		"key not base64":            {func(c *Config) { c.SendGridPublicKey = "%%" }, "Config.SendGridPublicKey: not base64"},
		"key not a key":             {func(c *Config) { c.SendGridPublicKey = "AAAA" }, "Config.SendGridPublicKey"},
		"RSA key":                   {func(c *Config) { c.SendGridPublicKey = base64.StdEncoding.EncodeToString(rsaDER) }, "not the ECDSA key"},
		"negative max age": {func(c *Config) {
			c.SendGridPublicKey, c.SendGridMaxAge = publicKeyBase64(t, &mustKey(t).PublicKey), -1
		}, "Config.SendGridMaxAge"},
	} {
		cfg := base
		c.mutate(&cfg)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}

	twilioOnly := base
	twilioOnly.TwilioAuthToken, twilioOnly.PublicURL = "t", "https://nudge.example.org"
	if _, err := New(twilioOnly); err == nil || !strings.Contains(err.Error(), "Config.Inbound is required") {
		t.Errorf("twilio without an inbound queue: %v", err)
	}
	twilioOnly.Inbound = &syncInbound{t: t}
	h, err := New(twilioOnly)
	if err != nil {
		t.Fatal(err)
	}
	if got := routeNames(h); !slices.Equal(got, []string{"POST " + PathTwilioInbound, "POST " + PathTwilioStatus}) {
		t.Fatalf("twilio-only routes %v", got)
	}
	sendGridOnly := base
	sendGridOnly.SendGridPublicKey = publicKeyBase64(t, &mustKey(t).PublicKey)
	if h, err = New(sendGridOnly); err != nil {
		t.Fatal(err)
	}
	if got := routeNames(h); !slices.Equal(got, []string{"POST " + PathSendGridEvents}) {
		t.Fatalf("sendgrid-only routes %v", got)
	}
	if h.cfg.SendGridMaxAge != DefaultSendGridMaxAge {
		t.Fatalf("default max age %v", h.cfg.SendGridMaxAge)
	}
}

func routeNames(h *Handler) []string {
	var out []string
	for p := range h.Routes() {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
