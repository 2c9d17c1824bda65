package templates_test

import (
	"fmt"
	"maps"

	"github.com/nudgehq/nudge/internal/vocab"
	"github.com/nudgehq/nudge/templates"
)

func ExampleSet_Render() {
	set, err := templates.Load(nil) // or templates.Load(os.DirFS("/etc/nudge/templates"))
	if err != nil {
		panic(err)
	}
	vars := map[string]any{
		"FirstName":    "Sam",
		"PracticeName": "Lakeside Counseling",
		"When":         "Thu, Mar 12 at 3:30 PM",
		"LocationKind": "in_person",
		"Link":         "",
	}
	maps.Copy(vars, templates.CommonVars("en-US", "988"))

	msg, err := set.Render(templates.KindReminder, "en-US", vocab.SMS, vars)
	if err != nil {
		panic(err)
	}
	fmt.Println(msg.Text)
	fmt.Println(templates.SMSInfo(msg.Text))
	// Output:
	// Hi Sam, reminder from Lakeside Counseling: your appointment is Thu, Mar 12 at 3:30 PM, in person. Reply C to confirm or R to reschedule.
	// GSM-7 1
}

func ExampleLint() {
	set, err := templates.Load(nil)
	if err != nil {
		panic(err)
	}
	errors := 0
	for _, f := range templates.Lint(set, templates.DefaultLintConfig()) {
		if f.Severity == templates.SeverityError {
			errors++
		}
	}
	fmt.Println("errors:", errors)
	// Output:
	// errors: 0
}
