// Package consumers holds nudge's JetStream consumers: the code that takes an
// event off the bus, decides what it means, and records or delivers it.
//
// The path of an event, in three files:
//
//  1. publishers (package publishers) validates a CloudEvent and publishes it
//     on nudge.events.<type> with Nats-Msg-Id = event id; JetStream's PubAck
//     makes it durable before the producer hears "accepted".
//  2. runner.go pulls from a durable consumer and turns a handler's result
//     into Ack, NakWithDelay (transient trouble, backing off) or Term
//     (a message that can never succeed).
//  3. ingest.go applies each event to the store idempotently: replaying an
//     event changes nothing, and an event older than the stored state does
//     not overwrite it (the store compares event times).
//
// Appointment reminders branch off step 3: after a session or client
// change is applied, reminders.go (ReminderScheduler) places each reminder
// in the client's quiet-hours window and keeps one JetStream message
// schedule per session and offset (schedules.go); when it fires, deliver.go
// re-checks the session (checks.go) and sends at most once.
package consumers
