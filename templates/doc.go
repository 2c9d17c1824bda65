// Package templates holds nudge's message templates, renders them, and lints
// them for what PRODUCT.md promises clients: minimum necessary (invariant 8 in docs/invariants.md),
// a way to stop (2), the emergency footer (9) and no keyword traps (10).
//
// # Files
//
// The templates are embedded from defaults/ and a practice may replace or
// add any of them from its own directory (Load with os.DirFS). One file is
// one template, named for its kind, locale and format:
//
//	reminder.en.sms.tmpl            SMS, text/template
//	reminder.en.email.subject.tmpl  email subject, text/template
//	reminder.en.email.txt.tmpl      email plain-text part, text/template
//	reminder.en.email.html.tmpl     email HTML part, html/template
//	encouragement.en.lines.txt      line library: supportive lines to pick a Message from
//
// Every kind ships in en and es for SMS; reminder, booked, encouragement,
// journal_nudge and announcement also ship as email. Render falls back from
// a region to its language to English ("es-MX" → "es" → "en").
//
// # Variables
//
// Templates render from a map, and every variable a template mentions must
// be present (Render fails with ErrMissingVar otherwise; Set.Vars lists
// them). The shipped templates use:
//
//	reminder, booked       FirstName, When, LocationKind ("in_person" or "telehealth"), Link (may be ""), PracticeName
//	encouragement          FirstName, Message (a line from Set.Lines), PracticeName, OptOutLine, EmergencyFooter
//	journal_nudge          FirstName, PracticeName, OptOutLine, EmergencyFooter
//	announcement           FirstName, Body, PracticeName, OptOutLine
//	confirmed              FirstName, When, PracticeName
//	reschedule_requested   FirstName, PracticeName
//	help                   PracticeName, OptOutLine, EmergencyFooter
//	opted_out              PracticeName
//	resubscribed           PracticeName, OptOutLine
//	crisis                 PracticeName, CrisisLine
//	every email            also PracticePostalAddress, UnsubscribeURL, EmergencyFooter
//
// When is already formatted in the client's zone and locale ("Thu, Mar 12
// at 3:30 PM", "jueves 12 de marzo a las 15:30"). CommonVars gives the
// standard OptOutLine, EmergencyFooter and CrisisLine for a locale.
//
// # Content
//
// Messages carry a first name, a time, the practice's name and a link at
// most: no diagnosis, modality, clinician or session type. Reminders ask
// for C to confirm and R to reschedule, never CANCEL. Encouragement and
// journal nudges are warm and short and never count missed days. Shipped
// SMS stay within two GSM-7 segments, which is why the wording avoids
// typographic quotes and, in Spanish, the accented letters outside GSM-7
// (á í ó ú) where a natural alternative exists.
//
// # Lint
//
// Lint renders every template with sample values (every location kind,
// every library line) and checks the output; TestShippedTemplatesLintClean
// keeps the shipped set free of error findings. Practices should lint their
// overrides the same way, with LintConfig.Vars set to their real values.
// SMSInfo reports the encoding and segment count of any SMS text.
package templates
