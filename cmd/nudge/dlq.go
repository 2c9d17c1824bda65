package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"
)

type dlqCmd struct {
	List   dlqListCmd   `cmd:"" help:"List dead letters (pending replay unless --all)."`
	Show   dlqShowCmd   `cmd:"" help:"Show one dead letter with its message."`
	Replay dlqReplayCmd `cmd:"" help:"Put a dead letter back on its subject (once)."`
}

type dlqEntry struct {
	ID         int64           `json:"id"`
	Stream     string          `json:"stream"`
	StreamSeq  uint64          `json:"stream_seq"`
	Consumer   string          `json:"consumer"`
	Subject    string          `json:"subject"`
	Key        string          `json:"key"`
	Deliveries uint64          `json:"deliveries"`
	Reason     string          `json:"reason"`
	CreatedAt  time.Time       `json:"created_at"`
	ReplayedAt time.Time       `json:"replayed_at"`
	ReplayedBy string          `json:"replayed_by"`
	Data       json.RawMessage `json:"data"`
}

type dlqListCmd struct {
	All bool `help:"Include dead letters already replayed."`
	apiTarget
}

func (c *dlqListCmd) Run(g *globals) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	path := "/v1/deadletters"
	if c.All {
		path += "?all=1"
	}
	var out struct {
		DeadLetters []dlqEntry `json:"dead_letters"`
	}
	if err := cl.call(http.MethodGet, path, &out); err != nil {
		return err
	}
	if len(out.DeadLetters) == 0 {
		fmt.Fprintln(g.stdout, "no dead letters")
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tSTREAM\tCONSUMER\tTRIES\tKEY\tREPLAYED")
	for _, d := range out.DeadLetters {
		replayed := "-"
		if !d.ReplayedAt.IsZero() {
			replayed = d.ReplayedAt.Format(time.RFC3339) + " by " + d.ReplayedBy
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.CreatedAt.Format(time.RFC3339), d.Stream, d.Consumer, d.Deliveries, d.Key, replayed)
	}
	return tw.Flush()
}

type dlqShowCmd struct {
	ID int64 `arg:"" help:"Dead letter id."`
	apiTarget
}

func (c *dlqShowCmd) Run(g *globals) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	var d json.RawMessage
	if err := cl.call(http.MethodGet, fmt.Sprintf("/v1/deadletters/%d", c.ID), &d); err != nil {
		return fmt.Errorf("dead letter %d: %w", c.ID, err)
	}
	var pretty any
	_ = json.Unmarshal(d, &pretty)
	b, _ := json.MarshalIndent(pretty, "", "  ")
	fmt.Fprintln(g.stdout, string(b))
	return nil
}

type dlqReplayCmd struct {
	ID int64 `arg:"" help:"Dead letter id."`
	apiTarget
}

func (c *dlqReplayCmd) Run(g *globals) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	var d dlqEntry
	if err := cl.call(http.MethodPost, fmt.Sprintf("/v1/deadletters/%d/replay", c.ID), &d); err != nil {
		return fmt.Errorf("dead letter %d: %w", c.ID, err)
	}
	fmt.Fprintf(g.stdout, "replayed dead letter %d (%s) onto %s\n", d.ID, d.Key, d.Subject)
	return nil
}
