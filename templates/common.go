package templates

import "strings"

// commonWording is nudge's standard wording for the common lines, by locale.
// %s is the crisis line. Kept to the GSM-7 alphabet so that adding them
// does not switch an SMS to UCS-2.
var commonWording = map[string]struct{ optOut, footer string }{
	"en": {
		optOut: "Reply STOP to opt out.",
		footer: "Replies aren't monitored for emergencies. In a crisis, call or text %s.",
	},
	"es": {
		optOut: "Responde STOP para darte de baja.",
		footer: "Estos mensajes no se revisan en emergencias. En una crisis, llama o escribe al %s.",
	},
}

// CommonVars returns nudge's standard wording of the variables most
// templates share, for locale (falling back like Render) and a crisis line
// such as "988": OptOutLine, EmergencyFooter and CrisisLine. Callers add
// them to the vars they render with, and may replace them with a practice's
// own wording; PracticeName, and for email PracticePostalAddress and
// UnsubscribeURL, always come from the caller.
func CommonVars(locale, crisisLine string) map[string]any {
	w := commonWording[FallbackLocale]
	for _, l := range localeFallbacks(locale) {
		if found, ok := commonWording[l]; ok {
			w = found
			break
		}
	}
	return map[string]any{
		"OptOutLine":      w.optOut,
		"EmergencyFooter": strings.Replace(w.footer, "%s", crisisLine, 1),
		"CrisisLine":      crisisLine,
	}
}
