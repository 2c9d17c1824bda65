package unsubscribe

import (
	"context"
	"fmt"
	"time"

	"github.com/nudgehq/nudge/publishers"
)

// EventSource is the CloudEvents source of the revocations links publish.
const EventSource = "/nudge/unsubscribe-link"

// Publisher is the part of publishers.Publisher PublishRevocation needs.
type Publisher interface {
	Publish(ctx context.Context, e publishers.Event) (publishers.PublishResult, error)
}

// PublishRevocation is the one place an unsubscribe link revokes consent:
// it publishes a consent.revoked event (channel email, the claim's purpose,
// source "email:unsubscribe-link") and returns once JetStream has it. The
// ingest consumer applies it through the same consent path as every other
// revocation, so the link decides nothing itself (the HTTP side verifies
// and publishes; consumers decide). Each click is its own event: a client
// who opted in again and clicks an old link is unsubscribed again.
//
// The claim's address is not carried yet: consent.revoked names the client,
// channel and purpose. When consent is bound to an address, this is the
// function to pass c.Address on.
func PublishRevocation(pub Publisher) Revoke {
	return func(ctx context.Context, c Claim, at time.Time) error {
		ev, err := publishers.NewEvent(publishers.TypeConsentRevoked, EventSource, publishers.ConsentChanged{
			ClientID: c.ClientID, Channel: publishers.ChannelEmail, Purpose: c.Purpose, Source: Source,
		})
		if err != nil {
			return fmt.Errorf("building the revocation: %w", err)
		}
		if _, err := pub.Publish(ctx, ev.WithTime(at)); err != nil {
			return fmt.Errorf("publishing the revocation: %w", err)
		}
		return nil
	}
}
