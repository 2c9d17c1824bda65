package main

import (
	"github.com/nudgehq/nudge/internal/app"
)

// encouragementFlags are the encouragement settings dev and serve share.
type encouragementFlags struct {
	EncouragementSchedule string `name:"encouragement-schedule" help:"What a consent for encouragement starts, on the client's clock: days and HH:MM (the default of encouragement.DefaultSchedule)." default:"mon,thu 10:00"`
}

func (f encouragementFlags) encouragement() app.Encouragement {
	return app.Encouragement{DefaultSchedule: f.EncouragementSchedule}
}
