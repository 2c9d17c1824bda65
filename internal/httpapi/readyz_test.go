package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nudgehq/nudge/internal/httpapi"
)

// /readyz is unauthenticated: it says which dependency is down, never the
// error behind it (a Postgres error names the user, database and address).
func TestReadyzNamesOnlyTheDependency(t *testing.T) {
	pgErr := errors.New("failed to connect to `user=nudge database=nudge`: 10.0.0.7:5432 (db): dial error")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&httpapi.NotReadyError{Dependency: "store", Err: fmt.Errorf("pinging database: %w", pgErr)}, `{"status":"unavailable","unavailable":"store"}`},
		{pgErr, `{"status":"unavailable"}`},
		{nil, `{"status":"ready"}`},
	} {
		srv := httptest.NewServer(httpapi.New(httpapi.Config{APIToken: "secret", Ready: func(context.Context) error { return tc.err }}))
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		var compact bytes.Buffer
		_ = json.Compact(&compact, b)
		if got := compact.String(); got != tc.want {
			t.Errorf("Ready error %v: /readyz = %s, want %s", tc.err, got, tc.want)
		}
		for _, leak := range []string{"nudge", "10.0.0.7", "5432"} {
			if strings.Contains(string(b), leak) {
				t.Errorf("/readyz leaks %q: %s", leak, b)
			}
		}
	}
}
