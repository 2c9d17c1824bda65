package publishers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/publishers"
)

// eventsStream is the stream the tests and examples create; nudge itself
// creates its own in production.
const eventsStream = "NUDGE_EVENTS"

// startJetStream runs an embedded NATS server with JetStream storing in dir
// and connects to it in-process (no TCP port, so parallel tests never
// collide). stop closes the connection and shuts the server down.
func startJetStream(dir string) (js jetstream.JetStream, nc *nats.Conn, stop func(), err error) {
	s, err := server.NewServer(&server.Options{
		JetStream:  true,
		StoreDir:   dir,
		DontListen: true,
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, nil, nil, errors.New("embedded NATS server did not start")
	}
	nc, err = nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		s.Shutdown()
		return nil, nil, nil, err
	}
	stop = func() {
		nc.Close()
		s.Shutdown()
		s.WaitForShutdown()
	}
	js, err = jetstream.New(nc)
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	return js, nc, stop, nil
}

// createEventsStream creates a stream over every nudge event subject with a
// two-minute duplicate window, like nudge's own.
func createEventsStream(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	return js.CreateStream(ctx, jetstream.StreamConfig{
		Name:       eventsStream,
		Subjects:   []string{publishers.SubjectPrefix + ".>"},
		Duplicates: 2 * time.Minute,
		Storage:    jetstream.FileStorage,
	})
}

// newJetStream gives a test its own embedded server and store directory.
func newJetStream(t *testing.T) (jetstream.JetStream, *nats.Conn) {
	t.Helper()
	js, nc, stop, err := startJetStream(t.TempDir())
	if err != nil {
		t.Fatalf("starting embedded NATS: %v", err)
	}
	t.Cleanup(stop)
	return js, nc
}
