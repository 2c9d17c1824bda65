package bus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestPermanentErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{context.DeadlineExceeded, false},
		{&jetstream.APIError{Code: 503, ErrorCode: 10008}, false},                              // temporarily unavailable
		{&jetstream.APIError{Code: 400, ErrorCode: 10005}, false},                              // no peers yet
		{&jetstream.APIError{Code: 400, ErrorCode: jetstream.JSErrCodeStreamNameInUse}, false}, // a racing creator
		{&jetstream.APIError{Code: 500, ErrorCode: 10074}, true},                               // replicas > 1 on one server
		{&jetstream.APIError{Code: 400, ErrorCode: 10999}, true},
		{&stopRetry{errors.New("bad credentials")}, true},
	} {
		if got := Permanent(c.err); got != c.want {
			t.Errorf("Permanent(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestRetryWaitsThenStopsAtItsBound(t *testing.T) {
	calls := 0
	err := Retry(t.Context(), nil, "a flaky thing", func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Retry = %v after %d calls, want success on the third", err, calls)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
	defer cancel()
	err = Retry(ctx, nil, "JetStream", func(context.Context) error { return errors.New("still down") })
	if err == nil || ctx.Err() == nil {
		t.Fatalf("Retry past its bound = %v", err)
	}
	if want := "waiting for JetStream"; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "still down") {
		t.Errorf("error %q does not say what it waited for and why", err)
	}

	calls = 0
	err = Retry(t.Context(), nil, "stream X", func(context.Context) error {
		calls++
		return &jetstream.APIError{Code: 400, ErrorCode: 10052, Description: "invalid config"}
	})
	if err == nil || calls != 1 {
		t.Errorf("a permanent error was retried (%d calls): %v", calls, err)
	}
}
