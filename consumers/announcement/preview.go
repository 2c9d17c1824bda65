package announcement

import (
	"context"
	"errors"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/templates"
)

// Preview is what an announcement would do, computed without sending: the
// same decisions the fan-out records.
type Preview struct {
	GroupID    string `json:"group_id"`
	Recipients int    `json:"recipients"`
	// Excluded counts members who would not be reached, by reason; the
	// common reasons are always present.
	Excluded  map[vocab.SkipReason]int `json:"excluded"`
	ByChannel map[vocab.Channel]int    `json:"by_channel"`
	// SMS describes the sample as an SMS (absent for email-only).
	SMS           *SMSInfo      `json:"sms,omitempty"`
	Lint          []Finding     `json:"lint"`
	Sample        string        `json:"sample"`
	SampleChannel vocab.Channel `json:"sample_channel"`
}

// SMSInfo is the sample's SMS encoding and segment count.
type SMSInfo struct {
	Segments int    `json:"segments"`
	Encoding string `json:"encoding"`
}

// Finding is one lint finding, as the API shows it.
type Finding struct {
	Severity string `json:"severity"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
}

// Findings converts lint findings for the API.
func Findings(fs []templates.Finding) []Finding {
	out := make([]Finding, 0, len(fs))
	for _, f := range fs {
		out = append(out, Finding{Severity: f.Severity, Rule: f.Rule, Message: f.Message})
	}
	return out
}

// ExcludedReasons are always listed in a preview's excluded counts.
var ExcludedReasons = []vocab.SkipReason{vocab.SkipNoConsent, vocab.SkipCarePaused, vocab.SkipOptedOut, vocab.SkipNoAddress}

// Service answers the staff's questions before sending: who would get it
// (Preview, Members). Safe for concurrent use.
type Service struct {
	Store    store.Store
	Audience Audience
	Content  Content
}

// Members decides reachability for a page of a group's members.
func (s *Service) Members(ctx context.Context, groupID, after string, limit int, channels []vocab.Channel) ([]Reach, error) {
	ids, err := s.Store.GroupMembersAfter(ctx, groupID, after, limit)
	if err != nil {
		return nil, err
	}
	return s.Audience.Reach(ctx, ids, channels)
}

// Preview computes recipients, exclusions, the lint and a sample of m for
// the group. It fails with ErrUnknownTemplate for a template that does
// not exist.
func (s *Service) Preview(ctx context.Context, groupID string, m Message) (Preview, error) {
	if err := s.Content.Refusal(m, "skip lint here"); errors.Is(err, ErrUnknownTemplate) {
		return Preview{}, err
	}
	p := Preview{GroupID: groupID, Excluded: map[vocab.SkipReason]int{}, ByChannel: map[vocab.Channel]int{}, Lint: Findings(s.Content.Findings(m))}
	for _, r := range ExcludedReasons {
		p.Excluded[r] = 0
	}
	sampleFor := ""
	sampleChannel := sampleChannel(m)
	after := ""
	for {
		page, err := s.Members(ctx, groupID, after, PlanBatch, m.Channels)
		if err != nil {
			return Preview{}, err
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if !r.Reachable {
				p.Excluded[r.Reason]++
				continue
			}
			p.Recipients++
			p.ByChannel[r.Channel]++
			if sampleFor == "" && r.Channel == sampleChannel {
				sampleFor = r.ClientID
			}
		}
		after = page[len(page)-1].ClientID
	}
	client := store.Client{FirstName: "Alex"}
	if sampleFor != "" {
		c, err := s.Store.GetClient(ctx, sampleFor)
		if err != nil {
			return Preview{}, err
		}
		client = c
	}
	msg, err := s.Content.Sample(m, client, sampleChannel)
	if err != nil {
		return Preview{}, err
	}
	p.Sample, p.SampleChannel = msg.Text, sampleChannel
	if sampleChannel == vocab.SMS {
		enc, segs := templates.SMSInfo(msg.Text)
		p.SMS = &SMSInfo{Segments: segs, Encoding: enc}
	}
	return p, nil
}
