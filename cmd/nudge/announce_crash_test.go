package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/fakeprovider"
)

// announceCrashWindows are the failpoints of the fan-out: after a batch of
// members is decided (the plan), after a window of notifications is queued
// but before the recipients are marked queued, and the deliverer's.
var announceCrashWindows = []string{"announce.after_plan_batch", "announce.after_queue",
	"deliver.before_call", "deliver.after_call", "deliver.after_ledger"}

// TestAnnouncementCrashNeverTwiceNeverLost kills `nudge dev` at random
// points of an announcement's fan-out and restarts it until the
// announcement is done: every member reaches the fake Twilio (which lives
// in the test, across the restarts) exactly once.
func TestAnnouncementCrashNeverTwiceNeverLost(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts the binary many times; skipped with -short")
	}
	const members = 250 // several feeding windows (100) and plan batches
	bin := buildNudge(t)
	dataDir := t.TempDir()
	addr := freeAddr(t)
	failLog := filepath.Join(t.TempDir(), "failpoints.log")
	token := "0123456789abcdef0123456789abcdef"
	tw := fakeprovider.NewTwilio(fakeprovider.TwilioConfig{AccountSid: "AC00000000000000000000000000000000", AuthToken: token})
	tws, err := tw.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer tws.Close()

	var runs, crashes int
	var out bytes.Buffer
	var proc *exec.Cmd
	exited := make(chan error, 1)
	failpoints, fanOutOnly := "", ""
	died := func(err error) {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 137 {
			t.Fatalf("nudge dev exited with %v, not at a failpoint:\n%s", err, out.String())
		}
		crashes++
	}
	start := func() {
		for {
			runs++
			out.Reset()
			proc = exec.Command(bin, "dev", "--data-dir", dataDir, "--http", addr,
				"--twilio-base-url", tws.URL, "--twilio-auth-token", token, "--sms-rate", "0", "--notify-ack-wait", "2s",
				"--notify-max-deliver", "40")
			spec := failpoints
			if spec != "" && failpointHits(failLog)["announce.after_queue"] == 0 {
				// Until the queue window has been hit, only the fan-out's
				// windows are armed: with the deliverer's armed too, a
				// slow machine can die delivering the first notifications
				// of a window every time before the window is queued.
				spec = fanOutOnly
			}
			proc.Env = append(os.Environ(), "NUDGE_API_TOKEN=crash-test-token", "NUDGE_FAILPOINTS="+spec,
				fmt.Sprintf("NUDGE_FAILPOINTS_SEED=%d", 7000+runs), "NUDGE_FAILPOINTS_LOG="+failLog)
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
	// The group arrives without failpoints; the announcement with them.
	start()
	dev := &devProcess{addr: addr, token: "crash-test-token"}
	at := time.Now().Add(-time.Hour)
	evs := []any{event("g-name", "group.upserted", at, map[string]any{"group_id": "g1", "name": "circle"})}
	for i := range members {
		id := fmt.Sprintf("m%03d", i)
		evs = append(evs,
			event("c-"+id, "client.upserted", at, map[string]any{"client_id": id, "first_name": "F" + id, "timezone": "UTC",
				"phone": fmt.Sprintf("+1415556%04d", i)}),
			event("k-"+id, "consent.granted", at, map[string]any{"client_id": id, "channel": "sms", "purpose": "announcements", "source": "t"}),
			event("g-"+id, "group.member_added", at, map[string]any{"group_id": "g1", "client_id": id}))
	}
	if status, body := dev.do(t, http.MethodPost, "/v1/events", evs); status != http.StatusAccepted {
		t.Fatalf("posting events: %d %v", status, body)
	}
	dev.eventuallyWithin(t, 30*time.Second, "/v1/groups/g1?limit=1", func(m map[string]any) bool {
		return m["group"].(map[string]any)["member_count"] == float64(members)
	})
	_ = proc.Process.Signal(os.Interrupt)
	<-exited

	// The fan-out's two windows are armed often (so a run hits them), the
	// rest at 4 %.
	fanOutOnly = "announce.after_plan_batch=0.6,announce.after_queue=0.7"
	failpoints = strings.Join(announceCrashWindows[2:], "=0.04,") + "=0.04," + fanOutOnly
	start()
	req := map[string]any{"announcement_id": "crash-1", "group_id": "g1", "body": "Circle moves to room 4.",
		"urgent": true, "urgent_reason": "crash test"}
	for attempt := 0; ; attempt++ {
		status, body := dev.do(t, http.MethodPost, "/v1/announcements", req)
		if status == http.StatusAccepted {
			break
		}
		if attempt > 50 {
			t.Fatalf("POST /v1/announcements = %d %v", status, body)
		}
		select {
		case err := <-exited:
			died(err)
			start()
		case <-time.After(100 * time.Millisecond):
		}
	}

	deadline := time.Now().Add(4 * time.Minute)
	for {
		var a struct {
			State string `json:"state"`
			Sent  int    `json:"sent"`
		}
		if dev.get("/v1/announcements/crash-1", &a) && a.State == "done" {
			if a.Sent != members {
				t.Errorf("announcement done with %d sent, want %d", a.Sent, members)
			}
			break
		}
		// Dead letters from the crash storm are replayed, as staff would.
		var dead struct {
			DeadLetters []struct{ ID int64 } `json:"dead_letters"`
		}
		if dev.get("/v1/deadletters", &dead) {
			for _, d := range dead.DeadLetters {
				dev.post(fmt.Sprintf("/v1/deadletters/%d/replay", d.ID))
			}
		}
		select {
		case err := <-exited:
			died(err)
			start()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_, body := dev.do(t, http.MethodGet, "/v1/announcements/crash-1", nil)
			_, dl := dev.do(t, http.MethodGet, "/v1/deadletters?all=1", nil)
			_ = proc.Process.Signal(os.Interrupt)
			<-exited
			_ = exec.Command("cp", "-r", dataDir, "/tmp/announce-probe/crashdir").Run()
			t.Logf("dead letters: %v", dl)
			t.Fatalf("not done after %d runs and %d crashes: %v\nlast output:\n%s", runs, crashes, body, out.String())
		}
	}
	_ = proc.Process.Signal(os.Interrupt)
	<-exited

	got := map[string]int{}
	for _, m := range tw.Messages() {
		if m.Direction == "outbound-api" {
			got[m.To]++
		}
	}
	for i := range members {
		if n := got[fmt.Sprintf("+1415556%04d", i)]; n != 1 {
			t.Errorf("member %d got %d messages, want exactly 1", i, n)
		}
	}
	hits := failpointHits(failLog)
	t.Logf("%d members, %d runs, %d crashes; windows hit: %v", members, runs, crashes, hits)
	for _, w := range announceCrashWindows[:2] {
		if hits[w] == 0 {
			t.Errorf("window %s was never hit: the test did not exercise the fan-out", w)
		}
	}
}
