package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/nudgehq/nudge/internal/store"
)

// EncouragementSchedules tells a client's encouragement schedule: the
// stored schedule, the zone it runs in and its next fire; zone is empty
// when the schedule is not live (no schedule, or no consent).
type EncouragementSchedules interface {
	Next(ctx context.Context, clientID string) (s store.EncouragementSchedule, zone string, next time.Time, err error)
}

type encouragementView struct {
	// Schedule as it was set: "mon,thu 10:00", or the cron expression.
	Schedule   string    `json:"schedule"`
	Cron       string    `json:"cron"`
	Themes     []string  `json:"themes,omitempty"`
	TimeZone   string    `json:"time_zone"`
	NextFireAt time.Time `json:"next_fire_at,omitzero"`
	Source     string    `json:"source"`
}

func (s *Server) encouragementOf(r *http.Request, clientID string) (*encouragementView, error) {
	if s.cfg.Encouragement == nil {
		return nil, nil
	}
	sch, zone, next, err := s.cfg.Encouragement.Next(r.Context(), clientID)
	if err != nil || zone == "" {
		return nil, err
	}
	v := &encouragementView{Schedule: sch.Cron, Cron: sch.Cron, Themes: sch.Themes, TimeZone: zone, NextFireAt: next, Source: sch.Source}
	if sch.Days != "" {
		v.Schedule = sch.Days + " " + sch.At
	}
	return v, nil
}
