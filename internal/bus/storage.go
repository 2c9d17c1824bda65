package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// StorageWatch keeps an embedded server's JetStream able to store.
//
// When a write to the file store fails — typically "no space left on
// device" — the server marks the stream with a write error and stops
// storing in it for good: every later publish times out, even once space
// is freed, until the server restarts. StorageWatch notices (the server's
// own health check reports the write error), reports it through Err so
// /readyz says not ready, and once the store directory can be written
// again restarts JetStream inside the running server, which reloads every
// stream and consumer from disk without the error. Nothing acknowledged is
// lost: a message whose write failed was never acknowledged.
//
// (A production cluster does this itself: a replica that cannot write
// hands its streams to the others.)
type StorageWatch struct {
	s        *server.Server
	storeDir string
	log      *slog.Logger
	interval time.Duration

	mu          sync.Mutex
	err         error
	lastRestart time.Time
	restarts    int
	suspect     int // consecutive checks that saw a problem
}

// DefaultStorageCheckInterval is how often WatchStorage asks the server.
const DefaultStorageCheckInterval = time.Second

// probeBytes is written to the store dir before a restart: JetStream needs
// room for at least a message block's first write.
const probeBytes = 256 << 10

// WatchStorage watches s, started by StartEmbedded with cfg, until ctx
// ends. interval 0 means DefaultStorageCheckInterval.
func WatchStorage(ctx context.Context, s *server.Server, cfg EmbeddedConfig, log *slog.Logger, interval time.Duration) *StorageWatch {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if interval <= 0 {
		interval = DefaultStorageCheckInterval
	}
	w := &StorageWatch{s: s, storeDir: cfg.StoreDir, log: log, interval: interval}
	go w.run(ctx)
	return w
}

// Err is nil while JetStream can store, else why it cannot.
func (w *StorageWatch) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Restarts counts the JetStream restarts that recovered from a failure.
func (w *StorageWatch) Restarts() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.restarts
}

func (w *StorageWatch) run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.check()
	}
}

func (w *StorageWatch) check() {
	err := w.health()
	w.mu.Lock()
	if err != nil {
		w.suspect++
	} else {
		w.suspect = 0
	}
	// A write error counts at once; anything else (a stream being created
	// or recovered at start) only when it lasts past one more check.
	if err != nil && w.suspect < 2 && !strings.Contains(err.Error(), "write error") {
		w.mu.Unlock()
		return
	}
	was := w.err
	w.err = err
	w.mu.Unlock()
	switch {
	case err == nil && was != nil:
		w.log.Info("JetStream can store again")
		return
	case err == nil:
		return
	case was == nil:
		w.log.Error("JetStream cannot store; intake answers 503 until it can", "err", err)
	}
	w.recover(err)
}

// health asks the server for the health of JetStream and every stream.
func (w *StorageWatch) health() error {
	if !w.s.JetStreamEnabled() {
		return errors.New("jetstream is not enabled")
	}
	h := w.s.Healthz(&server.HealthzOptions{})
	if h == nil || h.StatusCode == 200 {
		return nil
	}
	return errors.New(h.Error)
}

// recover restarts JetStream when the failure is a write error (or
// JetStream is off) and the store dir takes a write again; at most every
// few seconds, so a disk that is still full is not churned.
func (w *StorageWatch) recover(cause error) {
	msg := cause.Error()
	if !strings.Contains(msg, "write error") && !strings.Contains(msg, "not enabled") {
		return
	}
	w.mu.Lock()
	soon := time.Since(w.lastRestart) < 5*w.interval
	w.mu.Unlock()
	if soon {
		return
	}
	if err := probeWrite(w.storeDir); err != nil {
		w.log.Debug("store dir still not writable", "err", err)
		return
	}
	w.mu.Lock()
	w.lastRestart = time.Now()
	w.mu.Unlock()
	cfg := w.s.JetStreamConfig()
	if cfg == nil {
		cfg = &server.JetStreamConfig{}
	}
	// EnableJetStream appends "jetstream" to the store dir itself.
	cfg.StoreDir = w.storeDir
	w.log.Warn("restarting JetStream to clear the write error", "err", cause)
	if w.s.JetStreamEnabled() {
		if err := w.s.ShutdownJetStream(); err != nil {
			w.log.Error("stopping JetStream", "err", err)
			return
		}
	}
	if err := w.s.EnableJetStream(cfg); err != nil {
		w.log.Error("restarting JetStream", "err", err)
		return
	}
	w.mu.Lock()
	w.restarts++
	w.mu.Unlock()
	w.check()
}

// probeWrite writes and removes probeBytes in dir, synced to disk.
func probeWrite(dir string) (err error) {
	f, err := os.CreateTemp(dir, ".nudge-space-probe-*")
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		if rerr := os.Remove(f.Name()); err == nil && rerr != nil {
			err = rerr
		}
	}()
	if _, err := f.Write(make([]byte, probeBytes)); err != nil {
		return fmt.Errorf("probing %s: %w", filepath.Base(dir), err)
	}
	return f.Sync()
}
