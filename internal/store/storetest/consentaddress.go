package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// Defect 1 of issue 9: a grant dated far in the future made every later
// revocation "stale", and messages kept going. A revocation is never
// dropped; a grant older than the latest revocation is recorded but does
// not re-activate consent.
func testConsentRevocationNeverStale(t *testing.T, s store.Store) {
	ctx := t.Context()
	future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	res, err := s.AppendConsent(ctx, ev("g-future", "consent.granted", future),
		consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, future))
	wantResult(t, "future grant", res, err, applied)
	res, err = s.AppendConsent(ctx, ev("r-now", "consent.revoked", at(0)),
		consent(store.ConsentRevoked, vocab.SMS, vocab.Reminders, at(0)))
	wantResult(t, "revocation after a future grant", res, err, applied)
	if hasConsent(t, s, vocab.SMS, vocab.Reminders) {
		t.Fatal("a revocation behind a future-dated grant was dropped")
	}
	rec, err := s.GetEvent(ctx, "r-now")
	noErr(t, "GetEvent", err)
	if !rec.Applied || rec.Reason != "" {
		t.Fatalf("revocation recorded as %+v, want applied", rec)
	}

	// A grant older than the latest revocation: recorded, not active.
	res, err = s.AppendConsent(ctx, ev("g-old", "consent.granted", at(-5)),
		consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, at(-5)))
	wantResult(t, "older grant", res, err, stale)
	if hasConsent(t, s, vocab.SMS, vocab.Reminders) {
		t.Fatal("a grant older than the revocation re-activated consent")
	}
	// A revocation older than the grant it follows still wins.
	res, err = s.AppendConsent(ctx, ev("g-new", "consent.granted", at(10)),
		consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, at(10)))
	wantResult(t, "newer grant", res, err, applied)
	res, err = s.AppendConsent(ctx, ev("r-late", "consent.revoked", at(8)),
		consent(store.ConsentRevoked, vocab.SMS, vocab.Reminders, at(8)))
	wantResult(t, "late-arriving older revocation", res, err, applied)
	if hasConsent(t, s, vocab.SMS, vocab.Reminders) {
		t.Fatal("an older revocation arriving late was dropped")
	}
	wantEqual(t, "ledger keeps everything", ledgerLen(t, s), 5)
}

// Defect 3 of issue 9: consent is bound to the address it was given for.
func testConsentBoundToAddress(t *testing.T, s store.Store) {
	ctx := t.Context()
	const phoneA, phoneB = "+14155550101", "+14155550102"
	upsert := func(id string, when time.Time, phone, email string) {
		t.Helper()
		res, err := s.ApplyClientUpsert(ctx, ev(id, "client.upserted", when), store.Client{
			ID: "c-ana", FirstName: "Ana", Timezone: "America/New_York", Phone: phone, Email: email,
		})
		wantResult(t, id, res, err, applied)
	}
	has := func(ch vocab.Channel, addr string) bool {
		t.Helper()
		ok, err := s.HasConsentAt(ctx, "c-ana", ch, vocab.Reminders, addr)
		noErr(t, "HasConsentAt", err)
		return ok
	}
	upsert("u1", at(0), phoneA, "Ana@Example.org")
	res, err := s.AppendConsent(ctx, ev("g1", "consent.granted", at(1)), consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, at(1)))
	wantResult(t, "grant", res, err, applied)
	res, err = s.AppendConsent(ctx, ev("g2", "consent.granted", at(1)), consent(store.ConsentGranted, vocab.Email, vocab.Reminders, at(1)))
	wantResult(t, "email grant", res, err, applied)
	if !has(vocab.SMS, phoneA) || !hasConsent(t, s, vocab.SMS, vocab.Reminders) {
		t.Fatal("no consent for the number it was given for")
	}
	if !has(vocab.Email, "ana@example.ORG") {
		t.Fatal("email consent must not depend on the address's case")
	}

	// A changed phone has no SMS consent until granted for it.
	upsert("u2", at(2), phoneB, "ana@example.org")
	if hasConsent(t, s, vocab.SMS, vocab.Reminders) || has(vocab.SMS, phoneB) {
		t.Fatal("sms consent followed the client to a new number")
	}
	if !has(vocab.SMS, phoneA) || !hasConsent(t, s, vocab.Email, vocab.Reminders) {
		t.Fatal("the old number's consent (or the unchanged email's) was lost")
	}
	ledger, err := s.ConsentLedger(ctx, "c-ana")
	noErr(t, "ledger", err)
	wantEqual(t, "old consent stays in the ledger", ledger[0].Address, phoneA)
	states, err := s.Consents(ctx, "c-ana")
	noErr(t, "Consents", err)
	for _, st := range states {
		if st.Channel == vocab.SMS {
			t.Fatalf("sms state %+v: nothing was said about the new number", st)
		}
	}

	res, err = s.AppendConsent(ctx, ev("g3", "consent.granted", at(3)), consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, at(3)))
	wantResult(t, "grant for the new number", res, err, applied)
	if !has(vocab.SMS, phoneB) {
		t.Fatal("no consent after granting for the new number")
	}

	// A revocation for one number leaves the other; one without an
	// address revokes every number.
	stop := consent(store.ConsentRevoked, vocab.SMS, vocab.Reminders, at(4))
	stop.Address, stop.Source = phoneA, "sms:STOP"
	res, err = s.AppendConsent(ctx, ev("r1", "consent.revoked", at(4)), stop)
	wantResult(t, "STOP from the old number", res, err, applied)
	if has(vocab.SMS, phoneA) || !has(vocab.SMS, phoneB) {
		t.Fatal("a STOP from one number must revoke that number only")
	}
	res, err = s.AppendConsent(ctx, ev("r2", "consent.revoked", at(5)), consent(store.ConsentRevoked, vocab.SMS, vocab.Reminders, at(5)))
	wantResult(t, "revocation without an address", res, err, applied)
	if has(vocab.SMS, phoneB) {
		t.Fatal("a revocation without an address must hold for every number")
	}
}

// Consent may arrive before the client profile: the grant is bound to the
// first address the client gets, and only that one.
func testConsentBeforeProfile(t *testing.T, s store.Store) {
	ctx := t.Context()
	res, err := s.AppendConsent(ctx, ev("g1", "consent.granted", at(0)), consent(store.ConsentGranted, vocab.SMS, vocab.Reminders, at(0)))
	wantResult(t, "grant before the profile", res, err, applied)
	client := store.Client{ID: "c-ana", FirstName: "Ana", Timezone: "UTC", Phone: "+14155550101"}
	for range 2 { // the replay binds nothing twice
		_, err = s.ApplyClientUpsert(ctx, ev("u1", "client.upserted", at(1)), client)
		noErr(t, "upsert", err)
	}
	ok, err := s.HasConsentAt(ctx, "c-ana", vocab.SMS, vocab.Reminders, "+14155550101")
	noErr(t, "HasConsentAt", err)
	if !ok || !hasConsent(t, s, vocab.SMS, vocab.Reminders) {
		t.Fatal("consent recorded before the profile was not bound to its first number")
	}
	wantEqual(t, "one bound copy", ledgerLen(t, s), 2)
	client.Phone = "+14155550102"
	_, err = s.ApplyClientUpsert(ctx, ev("u2", "client.upserted", at(2)), client)
	noErr(t, "upsert", err)
	if hasConsent(t, s, vocab.SMS, vocab.Reminders) {
		t.Fatal("consent followed the client to its second number")
	}
}

// A client's profile and its consent may be applied at once by two
// processes: whichever commits first, the grant ends up bound to the
// client's number.
func testConsentConcurrentWithProfile(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		id := fmt.Sprintf("c-%02d", i)
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := s.AppendConsent(ctx, ev("g-"+id, "consent.granted", at(0)), store.ConsentEntry{
				ClientID: id, Channel: vocab.SMS, Purpose: vocab.Reminders, Action: store.ConsentGranted, Source: "intake"})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := s.ApplyClientUpsert(ctx, ev("u-"+id, "client.upserted", at(0)), store.Client{
				ID: id, FirstName: "A", Timezone: "UTC", Phone: fmt.Sprintf("+141555501%02d", i)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		noErr(t, "concurrent apply", err)
	}
	for i := range n {
		id := fmt.Sprintf("c-%02d", i)
		ok, err := s.HasConsent(ctx, id, vocab.SMS, vocab.Reminders)
		noErr(t, "HasConsent", err)
		if !ok {
			t.Fatalf("%s: the grant applied alongside the profile is not bound to its number", id)
		}
	}
}
