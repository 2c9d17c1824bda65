// Package inbound decides what nudge does with a message a client sent:
// the inbound consumer. The Twilio webhook only verifies the signature and
// publishes the message to JetStream (stream NUDGE_INBOUND, subject
// nudge.inbound.<channel>, Nats-Msg-Id "twilio:<MessageSid>") and answers
// Twilio after the PubAck; everything else happens here, with JetStream
// redelivering while the store is away, so a STOP is never lost (invariant
// 4) and is applied once however often it arrives.
//
// # What each message does
//
// [Consumer.Process] stores the message once (the provider's message id is
// its key), classifies it with keyword.Classify, reads what the decision
// depends on ([Consumer.plan]), settles the kind ([decision.decide]) and acts ([Consumer.act]):
//
//	opt-out (STOP, QUIT, "please stop texting me" …)  one confirmation, then consent.Ledger.OptOut
//	opt-in  (START, UNSTOP, YES after an opt-out)     consent.Ledger.OptIn, then "welcome back"
//	HELP / INFO                                        the help text (not after an opt-out)
//	C / R                                              session.confirmed / session.reschedule_requested + acknowledgement
//	crisis language                                    crisis reply first, safety.crisis_reply, staff inbox
//	anything else                                      staff inbox, no automatic reply
//
// Replies are notifications with purpose vocab.Replies on NUDGE_NOTIFY, so
// the deliveries ledger sends each key once; emitted events have ids
// derived from the message id. The message row is marked processed only
// after every step succeeded: a redelivery finds an unprocessed row and
// finishes it, and every step is idempotent on its own.
//
// # Adding a keyword flow (the one hook point)
//
// A new keyword flow — e.g. double opt-in, where HOPE asks for a program
// and the client's YES confirms it — goes in [decision.decide]: that is the one
// place a message's kind is settled from what nudge knows (whether the
// sender opted out, has a session coming, or has something pending). Give
// it its own keyword.Kind (or re-kind an existing one there, as YES is
// re-kinded to a confirmation when a session is coming), read the pending
// state it needs in [Consumer.plan], and add its case to [Consumer.act].
// A YES with nothing pending must keep its meaning today: after an opt-out
// it resubscribes, before a session it confirms, otherwise it is an opt-in
// that changes nothing. If the decision depends on state the flow itself
// changes, restore it in [decision.redecide] so that a redelivery finishing a
// half-done attempt acts on the first attempt's decision.
package inbound
