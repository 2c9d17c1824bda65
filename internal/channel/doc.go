// Package channel is the last step of nudge's event → decision → delivery
// path: a [Sender] hands one rendered [Message] to a provider, SMS through
// Twilio ([TwilioSender], twilio-go) and email through SendGrid
// ([SendGridSender], sendgrid-go).
//
// # Failures are classified once
//
// Every error a Sender returns is a [*ProviderError] whose [Class] says what
// to do, so no caller ever reads a provider code:
//
//	Transient      Twilio 429/20429 and SendGrid 429 (RetryAfter set), 5xx,
//	               timeouts, broken connections, cancellation
//	Permanent      every other 4xx: invalid number (21211), not mobile
//	               (21614), no permission (21408), unreachable (21612),
//	               SendGrid 400/413; bad credentials (401/403, also
//	               ErrUnauthorized); invalid messages (ErrInvalidMessage)
//	RevokeConsent  Twilio 21610: the recipient texted STOP to the provider
//
// MaybeSent marks the failures after which the provider may have accepted
// the message anyway (a timeout after the request was written, a 500, a
// gateway's 502/504). Neither provider has an idempotency key, so the caller
// records "sending" before Send and, after such a failure or a crash, calls
// Lookup before trying again.
//
// # Reconciliation
//
// Only the opaque DeliveryID travels to the provider, never a client
// identifier: SendGrid carries it as the custom arg "delivery_id" and
// Lookup finds it through the Email Activity API; Twilio carries it in the
// status callback URL ("?d=<id>") and Lookup matches recipient, body and
// time window (see [TwilioSender] for why).
//
// # Pointing the SDKs elsewhere
//
// Tests and `nudge dev` run the real SDK code against package fakeprovider
// through each config's BaseURL. For SendGrid it is the host argument of
// sendgrid.GetRequest. twilio-go hard-codes https://api.twilio.com in every
// generated service, so TwilioSender plugs in a client.BaseClient (the
// SDK's documented extension point) that rewrites *.twilio.com URLs to
// BaseURL, next-page URLs included.
package channel
