// Package storetest is the conformance suite every [store.Store] must pass.
// The Postgres and SQLite packages run it from their tests; a new
// implementation is done when [Run] (and [RunSchema], for SQL stores) pass.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

// Run runs the conformance suite. open must return a store over a new,
// empty, migrated database on every call and arrange (t.Cleanup) to close
// it. Subtests run in parallel, each with its own store.
//
// If the store has a DB() *sql.DB method, the suite also checks that the
// database itself refuses to update or delete consent ledger rows.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"ClientUpsert", testClientUpsert},
		{"ClientReplay", testClientReplay},
		{"ClientStale", testClientStale},
		{"ClientInvalid", testClientInvalid},
		{"ConsentLedger", testConsentLedger},
		{"ConsentOutOfOrder", testConsentOutOfOrder},
		{"ConsentReplay", testConsentReplay},
		{"ConsentWithoutEvent", testConsentWithoutEvent},
		{"ConsentInvalid", testConsentInvalid},
		{"ConsentAppendOnly", testConsentAppendOnly},
		{"ConsentRevocationNeverStale", testConsentRevocationNeverStale},
		{"ConsentBoundToAddress", testConsentBoundToAddress},
		{"ConsentBeforeProfile", testConsentBeforeProfile},
		{"ConsentConcurrentWithProfile", testConsentConcurrentWithProfile},
		{"SessionBooked", testSessionBooked},
		{"SessionReschedule", testSessionReschedule},
		{"SessionCancel", testSessionCancel},
		{"SessionUnknown", testSessionUnknown},
		{"SessionUpcoming", testSessionUpcoming},
		{"GroupMembership", testGroupMembership},
		{"GroupUpsert", testGroupUpsert},
		{"Audience", testAudience},
		{"AnnouncementLifecycle", testAnnouncementLifecycle},
		{"DeliveryCreate", testDeliveryCreate},
		{"DeliveryCreateConcurrent", testDeliveryCreateConcurrent},
		{"DeliveryBatchedWrites", testDeliveryBatchedWrites},
		{"Snapshot", testSnapshot},
		{"SnapshotBatched", testSnapshotBatched},
		{"DeliveryClaim", testDeliveryClaim},
		{"DeliveryLookups", testDeliveryLookups},
		{"DeliveryStateMachine", testDeliveryStateMachine},
		{"DeliveryUpdateConcurrent", testDeliveryUpdateConcurrent},
		{"DeliveryList", testDeliveryList},
		{"Suppressions", testSuppressions},
		{"Audit", testAudit},
		{"RecordEvent", testRecordEvent},
		{"GetEvent", testGetEvent},
		{"ConcurrentEventReplay", testConcurrentEventReplay},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Ping", testPing},
		{"InboundRecord", testInboundRecord},
		{"InboundFinish", testInboundFinish},
		{"Inbox", testInbox},
		{"InboxCrisisFirst", testInboxCrisisFirst},
		{"ProviderEvents", testProviderEvents},
		{"ClientsByAddress", testClientsByAddress},
		{"DeadLetters", testDeadLetters},
		{"ReminderUpsert", testReminderUpsert},
		{"ReminderCancel", testReminderCancel},
		{"ReminderList", testReminderList},
		{"ReminderLoad", testReminderLoad},
		{"CarePause", testCarePause},
		{"EventSources", testEventSources},
		{"StaffAccounts", testStaffAccounts},
		{"StaffSessions", testStaffSessions},
		{"StaffLoginThrottle", testStaffLoginThrottle},
		{"EncouragementSchedule", testEncouragementSchedule},
		{"EncouragementLinePicks", testEncouragementLinePicks},
		{"ClientSearch", testClientSearch},
		{"Deferrals", testDeferrals},
		{"SessionConfirmations", testSessionConfirmations},
		{"OptInRequests", testOptInRequests},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, open(t))
		})
	}
}

// t0 anchors event times; tests move relative to it with at.
var t0 = time.Date(2030, 3, 4, 9, 0, 0, 0, time.UTC)

// at returns t0 plus min minutes.
func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func ev(id, typ string, when time.Time) store.EventRef {
	return store.EventRef{ID: id, Type: typ, Source: "storetest", Time: when}
}

var (
	applied   = store.Result{Applied: true}
	duplicate = store.Result{Reason: store.ReasonDuplicate}
	stale     = store.Result{Reason: store.ReasonStale}
	noChange  = store.Result{Reason: store.ReasonNoChange}
)

// declined is the Result of an event recorded without effect.
func declined(reason string) store.Result { return store.Result{Reason: reason} }

// wantResult fails unless the call succeeded with want.
func wantResult(t *testing.T, what string, got store.Result, err error, want store.Result) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
	if got != want {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// wantErr fails unless err matches target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one matching %v", what, err, target)
	}
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	if got.Location() != time.UTC {
		t.Fatalf("%s: got location %v, want UTC", what, got.Location())
	}
}

func wantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}
