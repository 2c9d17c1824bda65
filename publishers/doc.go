// Package publishers is what a producer imports to send events to nudge: the
// event types of the catalogue, their validation, and a JetStream publisher.
//
// The same validation runs on every way into nudge — this package, the HTTP
// endpoint POST /v1/events and the CLI's "nudge publish" — so an event that
// passes [Event.Validate] here is accepted there too.
//
// # Building an event
//
// Events are CloudEvents 1.0 envelopes around a data object whose shape
// depends on the type. Use the data struct for the type and [NewEvent], which
// fills in a random id, the current time and the content type, then
// validates:
//
//	e, err := publishers.NewEvent(publishers.TypeSessionBooked, "/booking",
//		publishers.SessionBooked{
//			SessionID:    "s-1042",
//			ClientID:     "c-77",
//			StartsAt:     time.Date(2026, 12, 1, 10, 0, 0, 0, chicago),
//			DurationMin:  50,
//			LocationKind: publishers.LocationTelehealth,
//		})
//	if err != nil { ... } // a *ValidationError listing every problem
//
// Producers that are not written in Go send the same JSON to POST /v1/events.
// [Parse] and [ParseBatch] are how nudge reads it.
//
// # Validation
//
// [Event.Validate] checks the envelope and the data and reports every problem
// at once as a [*ValidationError]: a list of [FieldError] values, each with a
// JSON path ("data.phone"), a stable code ("invalid_format") and a message
// that shows the expected form. errors.Is(err, [ErrInvalidEvent]) is true for
// all of them. Messages never repeat a full phone number or email address,
// because they end up in logs.
//
// # Publishing
//
// A [Publisher] validates, then publishes the JSON envelope to
// [Subject](type), e.g. "nudge.events.session.booked", and waits for
// JetStream's acknowledgement:
//
//	pub := publishers.NewPublisher(js)
//	res, err := pub.Publish(ctx, e)
//
// # Idempotency: the id is the key
//
// The event id is the producer's idempotency key, within its source:
// CloudEvents identifies an event by source and id together. Publish sends
// the pair as Nats-Msg-Id ([MsgID]), so the stream stores it once within
// its duplicate window and acknowledges a repeat with
// PublishResult.Duplicate set; a duplicate is a success, not an error.
// Beyond the window nudge still applies an event once, because its store
// records every applied source and id (the "never twice" invariant). So:
//
//   - After a timeout or any error, retry with the same Event (same id): if
//     the first attempt got through, the retry changes nothing.
//   - Give each distinct change its own id, unique within your source
//     ([NewID] or a key from your records, "booking-s1042-v3"), and keep the
//     source stable: the same id from another source is another event.
//   - Set Event.Time to when the change happened: events for the same client
//     or session are ordered by it, and an older event never overwrites a
//     newer one.
//
// Events that nudge itself emits (session.confirmed, delivery.status_changed,
// ...) have types and data structs here too, for consumers; producers cannot
// submit them, and nudge publishes them with [Publisher.PublishEmitted].
package publishers
