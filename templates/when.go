package templates

import (
	"fmt"
	"time"
)

// whenFormats spell a session's day and time the way each locale reads
// it, for the When variable of reminder, booked and confirmed messages.
var whenFormats = map[string]func(t time.Time) string{
	// "Thu, Mar 12 at 3:30 PM"
	"en": func(t time.Time) string { return t.Format("Mon, Jan 2 at 3:04 PM") },
	// "jueves 12 de marzo a las 15:30"
	"es": func(t time.Time) string {
		return fmt.Sprintf("%s %d de %s a las %s", esWeekdays[t.Weekday()], t.Day(), esMonths[t.Month()-1], t.Format("15:04"))
	},
}

var (
	esWeekdays = [...]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
	esMonths   = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
)

// FormatWhen formats t, an appointment's start, for the When variable: the
// day and time on the wall clock of loc (the client's zone) in the
// client's locale, falling back like Render ("es-MX" → "es" → "en"). It
// names neither the year nor the zone: messages go to the client, in the
// client's own time. A nil loc means UTC.
func FormatWhen(t time.Time, loc *time.Location, locale string) string {
	if loc == nil {
		loc = time.UTC
	}
	local := t.In(loc)
	for _, l := range localeFallbacks(locale) {
		if f, ok := whenFormats[l]; ok {
			return f(local)
		}
	}
	return whenFormats[FallbackLocale](local)
}
