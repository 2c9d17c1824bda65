package bus

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedConfig configures the in-process NATS server of `nudge dev` and tests.
type EmbeddedConfig struct {
	// StoreDir holds JetStream's file store. Required: dev mode keeps every
	// stream, consumer and schedule across restarts.
	StoreDir string
	// ListenAddr, when not empty ("127.0.0.1:4223"), also opens a TCP
	// listener so outside tools can connect. Empty means in-process only,
	// so dev mode never fights over port 4222.
	ListenAddr string
	// SyncAlways flushes the file store on every write (production setting
	// `sync_interval: always`). Dev mode turns it on too: losing an accepted
	// event on a crash is never acceptable, and the cost is small at dev rates.
	SyncAlways bool
}

// StartEmbedded starts a JetStream-enabled NATS server in this process and
// waits until it is ready for connections.
func StartEmbedded(cfg EmbeddedConfig) (*server.Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("bus: EmbeddedConfig.StoreDir is required")
	}
	opts := &server.Options{
		ServerName:             "nudge-embedded",
		JetStream:              true,
		StoreDir:               cfg.StoreDir,
		SyncAlways:             cfg.SyncAlways,
		NoSigs:                 true,
		NoLog:                  true,
		DisableJetStreamBanner: true,
		DontListen:             true,
	}
	if cfg.ListenAddr != "" {
		host, port, err := net.SplitHostPort(cfg.ListenAddr)
		if err != nil {
			return nil, fmt.Errorf("bus: nats listen address %q: %w", cfg.ListenAddr, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("bus: nats listen port %q: %w", port, err)
		}
		opts.DontListen = false
		opts.Host, opts.Port = host, p
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: creating embedded nats server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, errors.New("bus: embedded nats server did not become ready within 10s")
	}
	return s, nil
}

// ConnectEmbedded opens an in-process client connection to s.
func ConnectEmbedded(s *server.Server, name string) (*nats.Conn, error) {
	nc, err := nats.Connect("", nats.InProcessServer(s), nats.Name(name), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("bus: connecting to embedded nats: %w", err)
	}
	return nc, nil
}
