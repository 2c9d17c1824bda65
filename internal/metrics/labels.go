package metrics

import (
	"strings"

	"github.com/nudgehq/nudge/consumers"
	"github.com/nudgehq/nudge/internal/bus"
	"github.com/nudgehq/nudge/internal/quiethours"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/publishers"
)

func set[T ~string](values ...T) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[string(v)] = true
	}
	return m
}

var (
	eventResults   = set(EventAccepted, EventDuplicate, EventRejected, EventUnavailable)
	messageResults = set(MessageAck, MessageRetry, MessageTerm)
	channels       = set(vocab.Channels()...)
	purposes       = set(append(vocab.ConsentPurposes(), vocab.Replies)...)
	outcomes       = set(consumers.OutcomeSent, consumers.OutcomeSkipped, consumers.OutcomeDeferred,
		consumers.OutcomeFailed, consumers.OutcomeRetry, consumers.OutcomeRevoked,
		consumers.OutcomeAlready, consumers.OutcomeRecon)
	eventTypes = set(append(publishers.IntakeTypes(), publishers.EmittedTypes()...)...)

	// reasons are the reasons the deliverer reports that are words, not
	// sentences: skip reasons, deferral reasons, ledger states (for
	// already_done) and the revocation marker.
	reasons = set(
		string(vocab.SkipExpired), string(vocab.SkipNoConsent), string(vocab.SkipOptedOut),
		string(vocab.SkipSuppressed), string(vocab.SkipNoAddress), string(vocab.SkipUnknownClient),
		string(vocab.SkipCancelled), string(vocab.SkipMoved), string(vocab.SkipStarted),
		string(vocab.SkipUnknownSession), consumers.ReasonDeadLettered,
		"quiet_hours", quiethours.ReasonDailyCap, quiethours.ReasonWeeklyCap,
		quiethours.ReasonMovedEarlier, quiethours.ReasonNextOpening, quiethours.ReasonNoSlot,
		quiethours.ReasonOffsetPassed, quiethours.ReasonSessionStarted,
		quiethours.ReasonDueNotBeforeSession,
		"recipient_unsubscribed",
		string(store.DeliveryPending), string(store.DeliverySending), string(store.DeliverySent),
		string(store.DeliveryDelivered), string(store.DeliveryFailed), string(store.DeliverySkipped),
		string(store.DeliveryUndelivered),
	)
)

// streamNames and consumerNames are the streams and durable consumers
// Provision creates: the topology is the one list of them.
var streamNames, consumerNames = func() (map[string]bool, map[string]bool) {
	streams, cons := map[string]bool{}, map[string]bool{}
	topo := bus.DefaultTopology(1)
	for _, sc := range topo.StreamConfigs() {
		streams[sc.Name] = true
	}
	for _, ccs := range topo.ConsumerConfigs() {
		for _, cc := range ccs {
			cons[cc.Durable] = true
		}
	}
	return streams, cons
}()

func oneOf(v string, known map[string]bool) string {
	if known[v] {
		return v
	}
	return Other
}

func eventType(t string) string { return oneOf(t, eventTypes) }

// Reason bounds a notification reason to a label value:
//
//   - "" is "none";
//   - a known word (skip and deferral reasons, ledger states) is itself;
//   - a provider error code ("21211", "429"), or a ledger reason that
//     starts with one ("twilio:21211 The 'To' number … is not valid"), is
//     the code: 3 to 5 digits, a finite set per provider;
//   - a provider failure without a code is "provider_error";
//   - a template failure ("template: …") is "template_error";
//   - anything else is "other".
//
// Free text never becomes a label: it may quote an address.
func Reason(r string) string {
	if r == "" {
		return "none"
	}
	if reasons[r] {
		return r
	}
	if isCode(r) {
		return r
	}
	head, _, _ := strings.Cut(r, " ")
	if strings.HasPrefix(head, "template:") {
		return "template_error"
	}
	if provider, code, ok := strings.Cut(head, ":"); ok && (provider == "twilio" || provider == "sendgrid" || provider == "") {
		if isCode(code) {
			return code
		}
		return "provider_error"
	}
	return Other
}

func isCode(s string) bool {
	if len(s) < 3 || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
