package main

import (
	"github.com/nudgehq/nudge/internal/app"
)

// encouragementFlags are the encouragement settings dev and serve share.
type encouragementFlags struct {
	EncouragementSchedule string `name:"encouragement-schedule" help:"What a consent for encouragement starts, on the client's clock: days and HH:MM (the default of encouragement.DefaultSchedule)." default:"mon,thu 10:00"`
	EncouragementKeyword  string `name:"encouragement-keyword" help:"What a known client texts to join encouragement by double opt-in (they confirm with YES within 24 h); - turns it off." default:"HOPE"`
}

func (f encouragementFlags) encouragement() app.Encouragement {
	return app.Encouragement{DefaultSchedule: f.EncouragementSchedule, Keyword: f.EncouragementKeyword}
}
