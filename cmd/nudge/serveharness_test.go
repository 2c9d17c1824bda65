package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/fakeprovider"
)

// lockedBuffer collects a child process's output while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fakeProviderProc is a running `nudge fakeprovider`: the fake Twilio and
// SendGrid in their own process, as serve sees real providers.
type fakeProviderProc struct {
	cmd  *exec.Cmd
	base string
	out  *lockedBuffer
	// What serve needs to use it.
	twilioSID, twilioToken, sendgridKey, sendgridPub string
}

var fakeEnvLine = regexp.MustCompile(`(?m)^\s+(NUDGE_[A-Z_]+)=(\S+)$`)

func startFakeProviderProc(t *testing.T, bin, sendgridWebhook string) *fakeProviderProc {
	t.Helper()
	addr := freeAddr(t)
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "fakeprovider", "--listen", addr, "--sendgrid-webhook-url", sendgridWebhook,
		"--twilio-status-delay", "50ms", "--sendgrid-event-delay", "50ms")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	f := &fakeProviderProc{cmd: cmd, base: "http://" + addr, out: out}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		vals := map[string]string{}
		for _, m := range fakeEnvLine.FindAllStringSubmatch(out.String(), -1) {
			vals[m[1]] = m[2]
		}
		if len(vals) >= 6 {
			f.twilioSID, f.twilioToken = vals["NUDGE_TWILIO_ACCOUNT_SID"], vals["NUDGE_TWILIO_AUTH_TOKEN"]
			f.sendgridKey, f.sendgridPub = vals["NUDGE_SENDGRID_API_KEY"], vals["NUDGE_SENDGRID_WEBHOOK_KEY"]
			return f
		}
	}
	t.Fatalf("nudge fakeprovider did not start:\n%s", out.String())
	return nil
}

// serveEnv is what `nudge serve` needs to use this fake for both channels.
func (f *fakeProviderProc) serveEnv() []string {
	return []string{
		"NUDGE_TWILIO_API_URL=" + f.base + "/twilio",
		"NUDGE_TWILIO_ACCOUNT_SID=" + f.twilioSID,
		"NUDGE_TWILIO_AUTH_TOKEN=" + f.twilioToken,
		"NUDGE_TWILIO_FROM=+15005550006",
		"NUDGE_SENDGRID_API_URL=" + f.base + "/sendgrid",
		"NUDGE_SENDGRID_API_KEY=" + f.sendgridKey,
		"NUDGE_SENDGRID_FROM=care@practice.example",
		"NUDGE_SENDGRID_WEBHOOK_KEY=" + f.sendgridPub,
	}
}

// messages returns what the fake captured on one side ("twilio" or
// "sendgrid"), through its control API.
func (f *fakeProviderProc) messages(t *testing.T, side string) []fakeprovider.CapturedMessage {
	t.Helper()
	resp, err := http.Get(f.base + "/" + side + "/_fake/messages")
	if err != nil {
		t.Fatalf("reading the fake's %s messages: %v", side, err)
	}
	defer resp.Body.Close()
	var out []fakeprovider.CapturedMessage
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decoding the fake's %s messages: %v", side, err)
	}
	return out
}

// serveProc is one `nudge serve` process that can be killed and started again
// with the same settings.
type serveProc struct {
	bin     string
	env     []string
	addr    string
	metrics string
	token   string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the current run has exited
	out  *lockedBuffer
	all  *lockedBuffer // output of every run, for failure messages
}

// newServeProc prepares a serve process; env is added to the basic
// settings (NATS, database, providers are the caller's).
func newServeProc(t *testing.T, bin string, env ...string) *serveProc {
	t.Helper()
	s := &serveProc{bin: bin, addr: freeAddr(t), metrics: freeAddr(t), token: strings.Repeat("s", 40), all: &lockedBuffer{}}
	s.env = append(append(os.Environ(),
		"NUDGE_HTTP="+s.addr,
		"NUDGE_METRICS_LISTEN="+s.metrics,
		"NUDGE_API_TOKEN="+s.token,
		"NUDGE_PUBLIC_URL=http://"+s.addr,
		"NUDGE_PRACTICE_NAME=Harbor Practice",
		"NUDGE_PRACTICE_ADDRESS=1 Main St, Springfield",
	), env...)
	t.Cleanup(func() { s.kill() })
	return s
}

// start launches the process without waiting for it to be ready.
func (s *serveProc) start(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out = &lockedBuffer{}
	cmd := exec.Command(s.bin, "serve")
	cmd.Env = s.env
	w := io.MultiWriter(s.out, s.all)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	done := make(chan struct{})
	s.done = done
	go func() { _ = cmd.Wait(); close(done) }()
}

// exited reports whether the current run has ended.
func (s *serveProc) exited() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// waitReady waits for /readyz on the metrics address; it fails the test
// when the process exits first or within is up.
func (s *serveProc) waitReady(t *testing.T, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get("http://" + s.metrics + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if s.exited() {
			t.Fatalf("nudge serve exited before it was ready:\n%s", s.all.String())
		}
	}
	t.Fatalf("nudge serve was not ready within %v:\n%s", within, s.all.String())
}

// kill SIGKILLs the current run (a crash, not a shutdown).
func (s *serveProc) kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		for range 100 {
			if s.exited() {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// client is the API as the test's producer sees it.
func (s *serveProc) client() *devProcess {
	return &devProcess{addr: s.addr, token: s.token}
}

// getStatus returns the status of GET url (0 when nothing answers).
func getStatus(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
