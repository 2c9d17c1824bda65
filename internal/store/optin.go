package store

import (
	"context"
	"time"
)

// OptInRequest is a client's request to join a recurring SMS program by
// texting its keyword (HOPE), waiting for the YES that confirms it (double
// opt-in). MessageID is the keyword message; ConfirmedBy the YES.
type OptInRequest struct {
	MessageID      string
	ClientID       string
	Address        string // the phone the keyword came from
	Keyword        string
	WordingVersion string // the wording of the confirmation request sent
	RequestedAt    time.Time
	ConfirmedBy    string    // the YES message; empty while pending
	ConfirmedAt    time.Time // zero while pending
}

// OptInRequests keeps double opt-in requests.
type OptInRequests interface {
	// RecordOptInRequest stores r unless (MessageID, ClientID) exists.
	RecordOptInRequest(ctx context.Context, r OptInRequest) (bool, error)
	// OptInRequestsAt returns the requests from address made at or after
	// since, newest first, confirmed or not.
	OptInRequestsAt(ctx context.Context, address string, since time.Time) ([]OptInRequest, error)
	// ConfirmOptInRequest marks a pending request confirmed by the YES
	// message confirmedBy; a confirmed one is left as it is. It reports
	// whether this call confirmed it.
	ConfirmOptInRequest(ctx context.Context, messageID, clientID, confirmedBy string, at time.Time) (bool, error)
}
