package quiethours

// JournalNudgeDue reports whether to send a gentle journal nudge on the
// client's missedDaysInRow-th missed journaling day in a row, as reported by
// the journaling app's journal.day_missed event (1 = the first missed day).
//
// Nudges back off and then stop: on missed day 1, day 3 and day 7, and never
// again in the same missed stretch. When the client journals again, the
// journaling app resets the count and the next stretch starts over at day 1.
// Three messages in a week is the most a quiet spell ever brings; someone
// who has stepped away is not chased.
//
// The rule depends only on the day count, so a redelivered event gives the
// same answer (sending it once is the delivery dedup's job, invariant 3 in docs/invariants.md). The
// count decides when, never what: nudges never mention how many days were
// missed and nothing here counts streaks, because a broken streak is a
// reason for shame and these messages must never shame. A nudge that is due
// still passes Cadence.Allow (purpose "journal") and quiet hours.
func JournalNudgeDue(missedDaysInRow int) bool {
	switch missedDaysInRow {
	case 1, 3, 7:
		return true
	}
	return false
}
