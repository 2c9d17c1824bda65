package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestCheckServerVersion(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"2.9.25", false},
		{"2.11.9", false},
		{"2.12.0", false}, // schedules, but no cron time zones
		{"2.13.9", false},
		{"2.14.0", true},
		{"2.14.0-beta.2", true},
		{"2.15.2", true},
		{"3.0.0", true},
		{"v2.14.1", true},
	} {
		err := CheckServerVersion(tc.v)
		if (err == nil) != tc.ok {
			t.Errorf("CheckServerVersion(%q) = %v, want ok=%v", tc.v, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrServerTooOld) {
			t.Errorf("CheckServerVersion(%q) error %v does not wrap ErrServerTooOld", tc.v, err)
		}
	}
}

func TestProvisionIdempotentAndDurable(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	s, err := StartEmbedded(EmbeddedConfig{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ConnectEmbedded(s, "test")
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	topo := DefaultTopology(1)
	for range 2 {
		if err := Provision(ctx, js, topo); err != nil {
			t.Fatalf("Provision: %v", err)
		}
	}
	if _, err := js.Publish(ctx, "nudge.events.client.upserted", []byte(`{}`), jetstream.WithMsgID("e1")); err != nil {
		t.Fatal(err)
	}
	ack, err := js.Publish(ctx, "nudge.events.client.upserted", []byte(`{}`), jetstream.WithMsgID("e1"))
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Duplicate {
		t.Error("second publish with the same Nats-Msg-Id was not reported as duplicate")
	}
	nc.Close()
	s.Shutdown()
	s.WaitForShutdown()

	// Restart on the same directory: the stream, its message and the consumer survive.
	s, err = StartEmbedded(EmbeddedConfig{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	nc, err = ConnectEmbedded(s, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ = jetstream.New(nc)
	st, err := js.Stream(ctx, StreamEvents)
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("messages after restart = %d, want 1", info.State.Msgs)
	}
	if info.Config.Duplicates != topo.DuplicateWindow {
		t.Errorf("duplicate window = %v, want %v", info.Config.Duplicates, topo.DuplicateWindow)
	}
	if _, err := st.Consumer(ctx, ConsumerIngest); err != nil {
		t.Errorf("ingest consumer after restart: %v", err)
	}
}

func TestStartEmbeddedRequiresStoreDir(t *testing.T) {
	if _, err := StartEmbedded(EmbeddedConfig{}); err == nil {
		t.Fatal("StartEmbedded without StoreDir succeeded")
	}
}
