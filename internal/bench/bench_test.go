package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store/postgres/pgtest"
)

// TestRunSmoke runs a tiny bench end to end on each store. It asserts what
// the run did, never how fast: every notification sent exactly once, every
// phase measured, the table printed.
func TestRunSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline; skipped with -short")
	}
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			cfg := Config{
				Store: store, ProviderLatency: time.Millisecond, Clients: 5, Workers: 4, Publishers: 4,
				MaxBacklog: 50, Count: 150, Duration: time.Second, HalfDuration: 300 * time.Millisecond, SyncAlways: true,
			}
			if store == "postgres" {
				cfg.DatabaseURL = pgtest.NewSchemaURL(t)
			}
			res, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Check.OK() || res.Check.Notifications < 150 {
				t.Errorf("audit: %+v", res.Check)
			}
			for name, p := range map[string]Phase{"raw": res.Raw, "raw after": res.RawAfter, "max": res.Max, "half": res.Half} {
				if p.Messages == 0 || p.Rate <= 0 {
					t.Errorf("%s phase measured nothing: %+v", name, p)
				}
			}
			if res.Max.LatencyP50 <= 0 || res.Half.LatencyP99 < res.Half.LatencyP50 || res.Max.Time == nil || res.Max.Time.Provider < time.Millisecond {
				t.Errorf("latencies or breakdown missing: max %+v, half %+v", res.Max, res.Half)
			}
			var out bytes.Buffer
			res.WriteTable(&out)
			for _, want := range []string{"raw JetStream publish+ack, before", "pipeline, half load", "audit ok"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("table lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{Store: "mysql", Channels: []string{"fax"}, Workers: 8, MaxBacklog: 4}
	c.Defaults()
	err := c.validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{`Store "mysql"`, `Channels: "fax"`, "MaxBacklog (4) must be at least Workers (8)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
