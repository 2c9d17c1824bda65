package httpapi

import (
	"net/http"

	"github.com/nudgehq/nudge/internal/store"
)

// stateDeferred is how the API shows a pending delivery that waits for a
// time (quiet hours, a cadence cap): the ledger says pending, the
// deferrals table says until when.
const stateDeferred = "deferred"

// deferralsOf returns the deferrals of the pending rows, by key.
func (s *Server) deferralsOf(r *http.Request, rows []store.Delivery) (map[string]store.Deferral, error) {
	var keys []string
	for _, d := range rows {
		if d.State == store.DeliveryPending {
			keys = append(keys, d.IdempotencyKey)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	return s.cfg.Store.DeferralsOf(r.Context(), keys)
}
