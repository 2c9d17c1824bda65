package main

import (
	"github.com/nudgehq/nudge/internal/app"
	"github.com/nudgehq/nudge/internal/cron"
)

// encouragementFlags are the encouragement settings dev and serve share.
type encouragementFlags struct {
	EncouragementSchedule daysAt `name:"encouragement-schedule" help:"What a consent for encouragement starts, on the client's clock: days and HH:MM (the default of encouragement.DefaultSchedule)." default:"mon,thu 10:00"`
	EncouragementKeyword  string `name:"encouragement-keyword" help:"What a known client texts to join encouragement by double opt-in (they confirm with YES within 24 h); - turns it off." default:"HOPE"`
}

// daysAt is a schedule written "mon,thu 10:00", checked when the flag or
// NUDGE_ENCOURAGEMENT_SCHEDULE is read, so a typo stops dev and serve
// with the setting named.
type daysAt string

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *daysAt) UnmarshalText(b []byte) error {
	if _, _, err := cron.ParseDaysAt(string(b)); err != nil {
		return err
	}
	*d = daysAt(b)
	return nil
}

func (f encouragementFlags) encouragement() app.Encouragement {
	return app.Encouragement{DefaultSchedule: string(f.EncouragementSchedule), Keyword: f.EncouragementKeyword}
}
