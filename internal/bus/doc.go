// Package bus owns nudge's connection to NATS JetStream: starting the
// embedded server used by `nudge dev` and tests, connecting to an external
// cluster for `nudge serve`, checking the server is new enough, and
// provisioning nudge's streams and consumers idempotently at start.
//
// Streams (see README, "Streams and consumers"):
//
//	NUDGE_EVENTS  nudge.events.>   every accepted event, CloudEvents JSON;
//	                               limits retention (30 days), 24 h duplicate
//	                               window on Nats-Msg-Id = event id.
//
// Consumers:
//
//	NUDGE_EVENTS/ingest  durable, explicit ack, updates the store.
package bus
