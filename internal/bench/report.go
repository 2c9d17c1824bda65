package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Targets are issue 11's goals for a 2-core machine.
const (
	TargetRatioPostgres = 0.50 // pipeline rate over raw JetStream rate, Postgres
	TargetRatioSQLite   = 0.25 // the same with SQLite's single writer
	TargetHalfP99Ms     = 25   // p99 event to provider at half the max load
)

// TargetRatio is the ratio target for the run's store.
func (r Result) TargetRatio() float64 {
	if r.Store == "sqlite" {
		return TargetRatioSQLite
	}
	return TargetRatioPostgres
}

// WriteTable prints r for people.
func (r Result) WriteTable(w io.Writer) {
	pacing := "no pacing"
	if r.SMSRate > 0 {
		pacing = fmt.Sprintf("SMS paced at %g/s", r.SMSRate)
	}
	fmt.Fprintf(w, "nudge bench: store %s, provider latency %s, %d workers, %d publishers, backlog ≤ %d, %d clients, channels %s, %s\n",
		r.Store, r.ProviderLatency, r.Workers, r.Publishers, r.MaxBacklog, r.Clients, strings.Join(r.Channels, "+"), pacing)
	fmt.Fprintf(w, "JetStream file store, sync always %t; %d-byte messages; %s, %d CPUs\n\n", r.SyncAlways, r.MessageBytes, r.GoVersion, r.CPUs)

	row := func(cells ...string) {
		line := fmt.Sprintf("%-38s %8s %8s %8s %7s %9s %9s %9s", toAny(cells)...)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	row("phase", "messages", "rate/s", "steady/s", "of raw", "p50", "p99", "max")
	raw := func(name string, p Phase) {
		row(name, strconv.Itoa(p.Messages), perSec(p.Rate), perSec(p.SteadyRate), "", "", "", "")
	}
	pipe := func(name string, p Phase) {
		row(name, strconv.Itoa(p.Messages), perSec(p.Rate), perSec(p.SteadyRate),
			fmt.Sprintf("%.0f%%", 100*p.Rate/r.RawRate), ms(p.LatencyP50), ms(p.LatencyP99), ms(p.LatencyMax))
	}
	raw("raw JetStream publish+ack, before", r.Raw)
	pipe("pipeline, max load", r.Max)
	pipe(fmt.Sprintf("pipeline, half load (%.0f/s offered)", r.Half.Offered), r.Half)
	raw("raw JetStream publish+ack, after", r.RawAfter)
	row("raw mean", "", perSec(r.RawRate), "", "100%", "", "", "")
	fmt.Fprintln(w)
	for _, p := range []struct {
		name string
		ph   Phase
	}{{"max load", r.Max}, {"half load", r.Half}} {
		if t := p.ph.Time; t != nil {
			fmt.Fprintf(w, "deliverer, %s, per notification: handler %s = provider call %s + waiting for a %s connection %s + the rest (queries, commits, checks, rendering, pacing) %s\n",
				p.name, ms(t.Handler), ms(t.Provider), r.Store, ms(t.StoreWait), ms(t.Handler-t.Provider-t.StoreWait))
		}
	}
	for _, p := range []struct {
		name string
		ph   Phase
	}{{"raw, before", r.Raw}, {"max load", r.Max}, {"half load", r.Half}, {"raw, after", r.RawAfter}} {
		fmt.Fprintf(w, "%s: publish waits for its PubAck p50 %s p99 %s; this process's CPU %s per message; a runnable goroutine waits for a CPU p50 %s p99 %s\n",
			p.name, ms(p.ph.PublishP50), ms(p.ph.PublishP99), ms(p.ph.CPUPerMessage), ms(p.ph.SchedP50), ms(p.ph.SchedP99))
	}
	fmt.Fprintln(w, "\nrate: messages / (first publish → last finished: acked for raw, ledger outcome for the pipeline); steady: 10th-90th percentile of finishes")
	fmt.Fprintln(w, "latency: Notify called → fake provider receives the request (before its simulated latency)")

	c := r.Check
	audit := "ok"
	if !c.OK() {
		audit = "NOT OK"
	}
	fmt.Fprintf(w, "audit %s: %d notifications, %d sent in the ledger, %d other, %d at the provider, %d extra provider requests\n",
		audit, c.Notifications, c.LedgerSent, c.LedgerOther, c.AtProvider, c.ExtraRequests)
	fmt.Fprintf(w, "target (issue 11, 2 cores; this run: %s on %d): pipeline ≥ %.0f%% of raw: %s (%.0f%%); p99 at half load ≤ %d ms: %s (%s)\n",
		r.Store, r.CPUs, 100*r.TargetRatio(), yesNo(r.Ratio >= r.TargetRatio()), 100*r.Ratio,
		TargetHalfP99Ms, yesNo(r.Half.LatencyP99.Milliseconds() <= TargetHalfP99Ms), ms(r.Half.LatencyP99))
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func perSec(r float64) string { return strconv.FormatFloat(r, 'f', 0, 64) }

func yesNo(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
