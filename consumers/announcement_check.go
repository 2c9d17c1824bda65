package consumers

import (
	"context"
	"fmt"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

// AnnouncementActive skips the messages of a cancelled announcement that
// have not been sent yet (POST /v1/announcements/{id}/cancel).
func AnnouncementActive(st store.Store) Check {
	return CheckFunc(func(ctx context.Context, t Target) (Verdict, error) {
		if t.N.AnnouncementID == "" {
			return Verdict{}, nil
		}
		a, err := st.GetAnnouncement(ctx, t.N.AnnouncementID)
		if err != nil {
			if isNotFound(err) {
				return Verdict{}, nil // queued straight onto the bus, not through a fan-out
			}
			return Verdict{}, fmt.Errorf("reading announcement: %w", err)
		}
		if a.State == store.AnnouncementCancelled {
			return skip(vocab.SkipAnnouncementCancelled), nil
		}
		return Verdict{}, nil
	})
}
