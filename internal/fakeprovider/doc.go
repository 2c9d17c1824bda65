// Package fakeprovider runs local stand-ins for the Twilio Messages API and
// the SendGrid v3 Mail Send API, close enough to the real services that
// nudge's real SDK code path (twilio-go, sendgrid-go) runs against them
// unchanged: the same URLs, authentication, form and JSON shapes, error codes
// and error bodies, status callbacks and signed event webhooks.
//
// Tests use them to assert on the exact request a provider would receive and
// to inject the failures that are hard to provoke for real (429 with a retry
// hint, 5xx, a hung connection, an accepted message whose response is lost,
// Twilio 21610 for a recipient who texted STOP). `nudge dev` uses them as its
// outbox: nothing leaves the machine, and [Twilio.Messages] and
// [SendGrid.Messages] show what would have been sent.
//
// # Mounting
//
// [Twilio] and [SendGrid] are [http.Handler]s that serve the provider's paths
// from the root ("/2010-04-01/Accounts/...", "/v3/mail/send"). Mount them on an
// httptest.Server, on a server of your own under a prefix, or call Start for a
// loopback listener:
//
//	tw := fakeprovider.NewTwilio(fakeprovider.TwilioConfig{})
//	mux.Handle("/_dev/twilio/", http.StripPrefix("/_dev/twilio", tw))
//	// point the sender at "http://127.0.0.1:8080/_dev/twilio"
//
//	srv, err := tw.Start() // listens on 127.0.0.1:0; srv.URL is the base URL
//	defer srv.Close()
//
// Each fake also serves a small control API under /_fake/ (see [Twilio] and
// [SendGrid]) so the same injections are reachable with curl in dev mode.
//
// # Failure injection
//
// [Failure] describes one injected failure; FailNext queues failures for the
// next API requests of any kind, FailTo fails every send to one recipient until
// ClearFailures or Reset. SetLatency delays every API request (benchmarks),
// SetRateLimit enforces a per-sender (Twilio: per From or Messaging Service;
// SendGrid: per API key) requests-per-second limit answered with 429.
//
// # Webhooks
//
// Twilio status callbacks and incoming-message webhooks ([Twilio.Inbound])
// are form posts signed with X-Twilio-Signature under the account's auth
// token ([SignTwilio]); SendGrid events are JSON arrays signed with ECDSA
// P-256 ([SendGrid.SignEvents]), verifiable with [SendGrid.PublicKey]. The
// SDKs' own validators accept both, so nudge's webhook handlers are tested
// against the real signatures; the exported signing functions let tests
// forge correctly signed requests of their own.
//
// # Asynchronous work
//
// Status callbacks, event webhooks and TwiML replies run on goroutines after
// the API call returns, as they do for real. Wait blocks until all of them
// have finished; Close stops them and releases hung requests.
package fakeprovider
