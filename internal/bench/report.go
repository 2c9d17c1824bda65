package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Target is issue 3's goal for a 2-core machine with Postgres.
const (
	TargetRatio     = 0.25 // pipeline rate over raw JetStream rate
	TargetHalfP99Ms = 100  // p99 event to provider at half the max load
)

// WriteTable prints r for people.
func (r Result) WriteTable(w io.Writer) error {
	pacing := "no pacing"
	if r.SMSRate > 0 {
		pacing = fmt.Sprintf("SMS paced at %g/s", r.SMSRate)
	}
	fmt.Fprintf(w, "nudge bench: store %s, provider latency %s, %d workers, %d publishers, backlog ≤ %d, %d clients, channels %s, %s\n",
		r.Store, r.ProviderLatency, r.Workers, r.Publishers, r.MaxBacklog, r.Clients, strings.Join(r.Channels, "+"), pacing)
	fmt.Fprintf(w, "JetStream file store, sync always %t; %d-byte messages; %s, %d CPUs\n\n", r.SyncAlways, r.MessageBytes, r.GoVersion, r.CPUs)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tmessages\trate/s\tsteady/s\tvs raw\tp50\tp99\tmax\t")
	fmt.Fprintf(tw, "raw JetStream publish+ack\t%d\t%.0f\t%.0f\t100%%\t-\t-\t-\t\n", r.Raw.Messages, r.Raw.Rate, r.Raw.SteadyRate)
	for _, p := range []struct {
		name string
		ph   Phase
	}{{"pipeline, max load", r.Max}, {fmt.Sprintf("pipeline, half load (%.0f/s offered)", r.Half.Offered), r.Half}} {
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.0f%%\t%s\t%s\t%s\t\n", p.name, p.ph.Messages, p.ph.Rate, p.ph.SteadyRate,
			100*p.ph.Rate/r.Raw.Rate, ms(p.ph.LatencyP50), ms(p.ph.LatencyP99), ms(p.ph.LatencyMax))
	}
	if err := tw.Flush(); err != nil {
		return err
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
	fmt.Fprintf(w, "target (2 cores, Postgres): pipeline ≥ %.0f%% of raw: %s (%.0f%%); p99 at half load < %d ms: %s (%s)\n",
		100*TargetRatio, yesNo(r.Ratio >= TargetRatio), 100*r.Ratio,
		TargetHalfP99Ms, yesNo(r.Half.LatencyP99.Milliseconds() < TargetHalfP99Ms), ms(r.Half.LatencyP99))
	return nil
}

func yesNo(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
