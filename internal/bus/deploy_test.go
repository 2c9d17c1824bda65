package bus

import (
	"fmt"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// TestDeployNATSConfig parses the production NATS configuration shipped in
// deploy/nats with the server's own parser, and checks the settings nudge
// relies on: JetStream on, sync always, a three-node cluster.
func TestDeployNATSConfig(t *testing.T) {
	t.Setenv("NUDGE_NATS_PASSWORD", "secret-from-env")
	for i := 1; i <= 3; i++ {
		path := fmt.Sprintf("../../deploy/nats/nats-%d.conf", i)
		opts, err := server.ProcessConfigFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !opts.JetStream || !opts.SyncAlways {
			t.Errorf("%s: jetstream=%v sync_always=%v, want both", path, opts.JetStream, opts.SyncAlways)
		}
		if opts.Cluster.Name != "nudge" || len(opts.Routes) != 3 {
			t.Errorf("%s: cluster %q with %d routes, want nudge with 3", path, opts.Cluster.Name, len(opts.Routes))
		}
		if opts.ServerName != fmt.Sprintf("nats-%d", i) {
			t.Errorf("%s: server_name %q", path, opts.ServerName)
		}
		if opts.Password != "secret-from-env" {
			t.Errorf("%s: the password does not come from NUDGE_NATS_PASSWORD", path)
		}
	}
}
