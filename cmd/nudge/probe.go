package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// probeCmd is a health check for images without a shell or curl (the
// distroless image nudge ships in): compose's healthcheck runs
// `nudge probe http://127.0.0.1:9090/readyz`.
type probeCmd struct {
	URL     string        `arg:"" help:"URL to GET; exit 0 on a 2xx answer." default:"http://127.0.0.1:8080/readyz"`
	Timeout time.Duration `help:"How long to wait for the answer." default:"3s"`
}

func (p *probeCmd) Run(g *globals) error {
	ctx, cancel := context.WithTimeout(g.ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("probe: %s answered %s", p.URL, resp.Status)
	}
	return nil
}
