package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIntakeRecoversAfterFullDisk fills the disk under `nudge dev`'s data
// dir for real — a small tmpfs, in a mount namespace of its own so nothing
// outside the test sees it — until JetStream's write fails with the
// server's own "no space left on device". Intake answers 503 and /readyz
// says JetStream is not ready; once space is freed, both recover without a
// restart, and an event accepted afterwards is applied.
func TestIntakeRecoversAfterFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	if os.Getenv("NUDGE_DISKFULL_DIR") == "" {
		runInMountNamespace(t)
		return
	}
	dir := os.Getenv("NUDGE_DISKFULL_DIR")
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=48m"); err != nil {
		t.Fatalf("mounting a tmpfs: %v", err)
	}
	defer syscall.Unmount(dir, syscall.MNT_DETACH)
	data := filepath.Join(dir, "data")
	p := startDev(t, os.Getenv("NUDGE_DISKFULL_BIN"), data, freeAddr(t))
	defer func() {
		if t.Failed() {
			t.Logf("nudge dev output:\n%s", lastLines(p.stdout.String(), 40))
		}
	}()
	base := time.Now().Add(-time.Minute)
	client := func(id string) []any {
		return []any{event(id, "client.upserted", base, map[string]any{"client_id": "c_" + id, "first_name": "Ada", "timezone": "Europe/London"})}
	}
	if status, body := p.do(t, http.MethodPost, "/v1/events", client("before")); status != http.StatusAccepted {
		t.Fatalf("before the disk fills: %d %v", status, body)
	}

	// Fill the disk, then publish until JetStream's write fails.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling: %v", err)
			}
			break
		}
	}
	f.Close()
	full := false
	var accepted []string // on the full disk, before JetStream's write failed
	for i := 0; i < 50 && !full; i++ {
		id := fmt.Sprintf("full-%d", i)
		status, _ := p.do(t, http.MethodPost, "/v1/events", client(id))
		full = status == http.StatusServiceUnavailable
		if status == http.StatusAccepted {
			accepted = append(accepted, id)
		}
	}
	if !full {
		t.Fatal("intake kept accepting on a full disk")
	}
	notReady := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !notReady; time.Sleep(200 * time.Millisecond) {
		status, body := p.do(t, http.MethodGet, "/readyz", nil)
		notReady = status == http.StatusServiceUnavailable && body["unavailable"] == "jetstream"
	}
	if !notReady {
		t.Fatal("/readyz never said JetStream was not ready while the disk was full")
	}

	// Free the space: intake recovers by itself.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var status int
	var body map[string]any
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if status, _ = p.do(t, http.MethodGet, "/readyz", nil); status != http.StatusOK {
			continue
		}
		if status, body = p.do(t, http.MethodPost, "/v1/events", client("after")); status == http.StatusAccepted {
			break
		}
	}
	if status != http.StatusAccepted {
		t.Fatalf("intake did not recover after space was freed: %d %v\n%s", status, body, p.stdout.String())
	}
	t.Logf("ready and accepting %v after space was freed", time.Since(start).Round(100*time.Millisecond))
	p.eventually(t, "/v1/events/after", func(m map[string]any) bool { return m["applied"] == true })
	// Never lost: what was accepted while the disk filled is applied too
	// (the store could not write either; ingest retried with backoff).
	for _, id := range accepted {
		applied := false
		for deadline := time.Now().Add(60 * time.Second); !applied && time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			_, m := p.do(t, http.MethodGet, "/v1/events/"+id, nil)
			applied = m["applied"] == true
		}
		if !applied {
			t.Errorf("event %s, accepted on the full disk, was never applied", id)
		}
	}
	t.Logf("%d events accepted while the disk filled, all applied", len(accepted))
	p.stop(t)
}

// runInMountNamespace runs this test again in a child process with a mount
// namespace of its own, where it may mount a small tmpfs.
func runInMountNamespace(t *testing.T) {
	bin := buildNudge(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestIntakeRecoversAfterFullDisk$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "NUDGE_DISKFULL_DIR="+t.TempDir(), "NUDGE_DISKFULL_BIN="+bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil && (errors.Is(err, syscall.EPERM) || strings.Contains(string(out), "mounting a tmpfs: operation not permitted")) {
		if os.Getenv("CI") != "" {
			t.Fatalf("needs a mount namespace and tmpfs (root; CI runs as root): %v", err)
		}
		t.Skipf("needs a mount namespace and tmpfs (root): %v", err)
	}
	t.Logf("child:\n%s", lastLines(string(out), 60))
	if err != nil {
		t.Fatalf("in its mount namespace: %v", err)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
