// Package webhook receives what the providers tell nudge: Twilio status
// callbacks and inbound SMS, and SendGrid's event webhook. Each request is
// verified first (invariant 11 in docs/invariants.md) and changes state at most once,
// however often the provider repeats it.
//
// # Routes
//
//	POST /webhooks/twilio/status    Twilio status callback (X-Twilio-Signature)
//	POST /webhooks/twilio/inbound   Twilio incoming message (X-Twilio-Signature)
//	POST /webhooks/sendgrid/events  SendGrid signed event webhook (ECDSA + timestamp window)
//
// [Handler.Routes] returns them for the HTTP server to mount;
// [Handler.InboxHandler] serves the staff inbox (GET /v1/inbox, GET
// /v1/inbox/{id}, POST /v1/inbox/{id}/resolve) for the server to mount
// behind its API authentication.
//
// A request whose signature is missing, wrong or (SendGrid) outside the
// timestamp window gets 403 and changes nothing.
//
// # Delivery status
//
// Status callbacks and email events move the deliveries ledger through
// [store.Store.UpdateDelivery], whose state machine only moves forward: a
// late "sent" after "delivered" changes nothing, so duplicates and
// out-of-order callbacks are harmless. A callback is tied to its delivery by
// the "d" parameter the deliverer puts in the Twilio callback URL (or the
// "delivery_id" custom arg SendGrid echoes), else by the provider's message
// id. Twilio error 21610 and SendGrid unsubscribe/spamreport are opt-outs,
// recorded through package consent exactly as an SMS STOP is; a hard
// bounce suppresses the address (invariant 2 in docs/invariants.md).
//
// # Inbound SMS
//
// The inbound webhook is intake only: it verifies the signature, publishes
// the message to JetStream (NUDGE_INBOUND, Nats-Msg-Id "twilio:<MessageSid>")
// and answers Twilio after the PubAck, 503 when the bus is down. What the
// message means is decided by the inbound consumer (package
// consumers/inbound), with redelivery while the store is away.
//
// # Emitted events
//
// Events emitted here (delivery.status_changed) and by package consent
// (client.opted_out) carry ids derived from their cause
// ("delivery:<id>:<state>", "opted-out:<cause>:<client>"), so
// emitting one again (a retry after a partial failure) is collapsed by
// JetStream's duplicate window and recognisable by consumers. They carry
// ids, never addresses or message text.
//
// Logs mask phone numbers and email addresses and never contain bodies.
package webhook
