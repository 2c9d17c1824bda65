// Package bustest gives tests a real JetStream: an embedded NATS server in
// the test's own temp dir, with nudge's topology provisioned, torn down when
// the test ends.
package bustest

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/internal/bus"
)

// Server starts an embedded JetStream server for t, without provisioning.
func Server(t testing.TB) *server.Server {
	t.Helper()
	s, err := bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// Connect opens a new in-process connection to s: each call is a separate
// client, as separate nudge processes would be.
func Connect(t testing.TB, s *server.Server) jetstream.JetStream {
	t.Helper()
	nc, err := bus.ConnectEmbedded(s, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// JetStream starts a server, provisions topo (one replica by default) and
// returns a connection to it.
func JetStream(t testing.TB, topo ...bus.Topology) jetstream.JetStream {
	t.Helper()
	js := Connect(t, Server(t))
	tp := bus.DefaultTopology(1)
	if len(topo) > 0 {
		tp = topo[0]
	}
	if err := bus.Provision(t.Context(), js, tp); err != nil {
		t.Fatal(err)
	}
	return js
}
