package main

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDataDirLock(t *testing.T) {
	dir := t.TempDir()
	release, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockDataDir(dir)
	if err == nil || !strings.Contains(err.Error(), "already in use by pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second lock = %v, want already in use by pid %d", err, os.Getpid())
	}
	release()
	release2, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	release2()
}

// A second `nudge dev` on a data dir in use exits at once, naming the pid
// of the first; one on a busy HTTP port suggests --http.
func TestSecondDevRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildNudge(t)
	dir := t.TempDir()
	first := startDev(t, bin, dir, freeAddr(t))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "dev", "--data-dir", dir, "--http", freeAddr(t)).CombinedOutput()
	want := "already in use by pid " + strconv.Itoa(first.cmd.Process.Pid)
	if err == nil || !strings.Contains(string(out), want) {
		t.Errorf("second dev on the same data dir: %v\n%s\nwant %q", err, out, want)
	}

	out, err = exec.CommandContext(ctx, bin, "dev", "--data-dir", t.TempDir(), "--http", first.addr).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--http") || !strings.Contains(string(out), "already in use") {
		t.Errorf("second dev on a busy port: %v\n%s\nwant a hint naming --http", err, out)
	}
	first.stop(t)
}
