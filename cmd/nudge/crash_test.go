package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/fakeprovider"
)

// crashWindows are the failpoints of the delivery path, in order.
var crashWindows = []string{"deliver.before_call", "deliver.after_call", "deliver.after_ledger", "deliver.after_ack"}

// TestCrashNeverTwiceNeverLost kills the worker (os.Exit at a failpoint)
// at random points of the delivery path and restarts it, over and over,
// until every notification is done. The fake Twilio lives in the test
// process, so it sees every send across all the restarts: each
// notification must reach it exactly once (never twice) and end "sent" in
// the ledger (never lost). It counts how often each window was hit.
func TestCrashNeverTwiceNeverLost(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the binary dozens of times; skipped with -short")
	}
	const notifications = 40 // per round
	bin := buildNudge(t)
	dataDir := t.TempDir()
	addr, natsAddr := freeAddr(t), freeAddr(t)
	failLog := filepath.Join(t.TempDir(), "failpoints.log")

	token := "0123456789abcdef0123456789abcdef"
	tw := fakeprovider.NewTwilio(fakeprovider.TwilioConfig{AccountSid: "AC00000000000000000000000000000000", AuthToken: token})
	tws, err := tw.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer tws.Close()

	var runs, crashes int
	var proc *exec.Cmd
	var out bytes.Buffer
	exited := make(chan error, 1)
	// died checks how the worker ended: only a failpoint exit is expected.
	died := func(err error) {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 137 {
			t.Fatalf("nudge dev exited with %v, not at a failpoint:\n%s", err, out.String())
		}
		crashes++
	}
	// start runs the worker until it is ready; a failpoint may kill it
	// while it starts (it resumes work at once), then it starts again.
	start := func() {
		for {
			runs++
			out.Reset()
			proc = exec.Command(bin, "dev", "--data-dir", dataDir, "--http", addr, "--nats-listen", natsAddr,
				"--twilio-base-url", tws.URL, "--twilio-auth-token", token, "--sms-rate", "0", "--notify-ack-wait", "2s",
				// A crash a second re-counts every prefetched message as
				// delivered: allow more tries than production's 12.
				"--notify-max-deliver", "40")
			proc.Env = append(os.Environ(),
				"NUDGE_API_TOKEN=crash-test-token",
				"NUDGE_FAILPOINTS="+strings.Join(crashWindows, "=0.05,")+"=0.05",
				fmt.Sprintf("NUDGE_FAILPOINTS_SEED=%d", 1000+runs),
				"NUDGE_FAILPOINTS_LOG="+failLog,
			)
			proc.Stdout, proc.Stderr = &out, &out
			if err := proc.Start(); err != nil {
				t.Fatal(err)
			}
			p := proc
			go func() { exited <- p.Wait() }()
			for deadline := time.Now().Add(20 * time.Second); ; {
				if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						return
					}
				}
				select {
				case err := <-exited:
					died(err)
				case <-time.After(30 * time.Millisecond):
					if time.Now().After(deadline) {
						t.Fatalf("nudge dev did not start:\n%s", out.String())
					}
					continue
				}
				break
			}
		}
	}
	start()
	// restartIfDead restarts the worker if it died at a failpoint.
	restartIfDead := func(wait time.Duration) {
		select {
		case err := <-exited:
			died(err)
			start()
		case <-time.After(wait):
		}
	}

	// The client and consent arrive as events, like in production.
	dev := &devProcess{addr: addr, token: "crash-test-token"}
	events := []any{
		event("crash-client", "client.upserted", time.Now().Add(-time.Hour), map[string]any{
			"client_id": "c_crash", "first_name": "Ada", "timezone": "America/New_York", "phone": "+14155550123"}),
		event("crash-consent", "consent.granted", time.Now().Add(-time.Hour), map[string]any{
			"client_id": "c_crash", "channel": "sms", "purpose": "announcements", "source": "test"}),
	}
	if status, body := dev.do(t, http.MethodPost, "/v1/events", events); status != http.StatusAccepted {
		t.Fatalf("posting events: %d %v", status, body)
	}
	dev.eventually(t, "/v1/clients/c_crash", func(m map[string]any) bool { return len(m["consents"].([]any)) == 1 })

	// Queue the notifications straight onto the bus, as the schedulers do.
	// Urgent keeps quiet hours and cadence out of this test.
	nc, err := nats.Connect("nats://"+natsAddr, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	disp := consumers.BusDispatcher{JS: js}
	total := 0
	queue := func() {
		for range notifications {
			i := total
			total++
			n := consumers.Notification{Key: fmt.Sprintf("crash:%03d", i), ClientID: "c_crash", Channel: "sms",
				Purpose: "announcements", Kind: "announcement", Urgent: true,
				Vars: map[string]any{"Body": fmt.Sprintf("Note number %03d.", i)}}
			for attempt := 0; ; attempt++ {
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				err := disp.Notify(ctx, n)
				cancel()
				if err == nil {
					break
				} else if attempt > 100 {
					t.Fatalf("queueing %s: %v", n.Key, err)
				}
				restartIfDead(100 * time.Millisecond) // the worker died mid-queueing
			}
		}
	}
	hits := func() map[string]int { return failpointHits(failLog) }

	// Restart the worker each time it dies until every key is done. A
	// notification that exhausted its deliveries in the crash storm is
	// dead-lettered (an explicit outcome); staff replay it, and so does
	// this test.
	var replays int
	done := func() bool {
		var dead struct {
			DeadLetters []struct{ ID int64 } `json:"dead_letters"`
		}
		if dev.get("/v1/deadletters", &dead) {
			for _, d := range dead.DeadLetters {
				if dev.post(fmt.Sprintf("/v1/deadletters/%d/replay", d.ID)) {
					replays++
				}
			}
		}
		var body struct {
			Deliveries []struct{ State string } `json:"deliveries"`
		}
		if !dev.get("/v1/deliveries?client_id=c_crash&limit=1000", &body) || len(body.Deliveries) < total {
			return false
		}
		for _, d := range body.Deliveries {
			if d.State != "sent" && d.State != "delivered" {
				return false
			}
		}
		return true
	}
	// Rounds of notifications until every crash window was hit at least
	// once (with several workers the order of failpoints varies).
	deadline := time.Now().Add(4 * time.Minute)
	for round := 0; round < 4; round++ {
		queue()
		for !done() {
			restartIfDead(200 * time.Millisecond)
			if time.Now().After(deadline) {
				_, ds := dev.do(t, http.MethodGet, "/v1/deliveries?client_id=c_crash&limit=1000", nil)
				t.Fatalf("not done after %d runs and %d crashes\ndeliveries: %s\nlast output:\n%s", runs, crashes, toJSON(ds), out.String())
			}
		}
		covered := true
		for _, w := range crashWindows {
			covered = covered && hits()[w] > 0
		}
		if covered {
			break
		}
	}
	_ = proc.Process.Signal(os.Interrupt)
	<-exited

	// Never twice, never lost: every body reached Twilio exactly once.
	seen := map[string]int{}
	for _, m := range tw.Messages() {
		if m.Direction == "outbound-api" {
			seen[m.Body]++
		}
	}
	for i := range total {
		want := fmt.Sprintf("Note number %03d.", i)
		count := 0
		for body, n := range seen {
			if strings.Contains(body, want) {
				count += n
			}
		}
		if count != 1 {
			t.Errorf("notification %d reached Twilio %d times, want exactly 1", i, count)
		}
	}
	h := hits()
	t.Logf("%d notifications, %d runs, %d crashes, %d dead letters replayed; windows hit: %v", total, runs, crashes, replays, h)
	for _, w := range crashWindows {
		if h[w] == 0 {
			t.Errorf("window %s was never hit: the test did not exercise it", w)
		}
	}
	if crashes == 0 {
		t.Error("no crash happened")
	}
}

// failpointHits counts the windows hit so far, from the log the failpoint
// package writes to NUDGE_FAILPOINTS_LOG (one window name a line).
func failpointHits(log string) map[string]int {
	h := map[string]int{}
	if b, err := os.ReadFile(log); err == nil {
		for _, line := range strings.Fields(string(b)) {
			h[line]++
		}
	}
	return h
}
