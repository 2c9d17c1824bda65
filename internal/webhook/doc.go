// Package webhook receives what the providers tell nudge: Twilio status
// callbacks and inbound SMS, and SendGrid's event webhook. Each request is
// verified first (PRODUCT.md invariant 11) and changes state at most once,
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
// id. Twilio error 21610 and SendGrid unsubscribe/spamreport revoke the
// client's consent on the channel and suppress the address; a hard bounce
// suppresses it (invariant 2).
//
// # Inbound SMS
//
// An inbound message is stored once (the MessageSid is its key) and
// classified with [keyword.Classify]; see inbound.go for what each kind does.
// Replies are never written as TwiML: they are queued as notifications with
// purpose [vocab.Replies], so they go through the deliveries
// ledger (at most once) like everything else. The inbound row is marked
// processed only after every step succeeded; a retried webhook finds an
// unprocessed row and finishes it, and every step is idempotent on its own
// (notification keys, consent event ids, deterministic event ids).
//
// # Emitted events
//
// Events emitted here (delivery.status_changed, client.opted_out,
// safety.crisis_reply, session.confirmed, session.reschedule_requested)
// carry ids derived from their cause ("delivery:<id>:<state>",
// "opted-out:<message>:<client>", "crisis:<message>:<client>", ...), so
// emitting one again (a retry after a partial failure) is collapsed by
// JetStream's duplicate window and recognisable by consumers. They carry
// ids, never addresses or message text: a safety.crisis_reply names the
// inbox message (its CloudEvents subject is "/v1/inbox/<id>"), and staff
// read the text there.
//
// Logs mask phone numbers and email addresses and never contain bodies.
package webhook
