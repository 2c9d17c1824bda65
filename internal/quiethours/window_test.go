package quiethours

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseWindow(t *testing.T) {
	tests := []struct {
		in      string
		want    Window
		wantErr string // substring; empty means success
	}{
		{in: "08:00-21:00", want: Default},
		{in: " 8:00 - 21:00 ", want: Default},
		{in: "08:00–21:00", want: Default}, // en dash
		{in: "09:30-17:45", want: Window{ClockOf(9, 30), ClockOf(17, 45)}},
		{in: "00:00-24:00", want: Window{0, EndOfDay}},
		{in: "23:59-24:00", want: Window{ClockOf(23, 59), EndOfDay}},
		{in: "21:00-08:00", wantErr: "overnight windows are not supported"},
		{in: "09:00-09:00", wantErr: "empty"},
		{in: "24:00-24:00", wantErr: "Start 24:00 out of range"},
		{in: "08:00", wantErr: "want HH:MM-HH:MM"},
		{in: "", wantErr: "want HH:MM-HH:MM"},
		{in: "8-21", wantErr: "Start"},
		{in: "08:00-21:60", wantErr: "out of range"},
		{in: "08:00-25:00", wantErr: "out of range"},
		{in: "08:00-24:01", wantErr: "out of range"},
		{in: "-8:00-21:00", wantErr: "Start"},
		{in: "08:0-21:00", wantErr: "Start"},
		{in: "08:00-21:00:00", wantErr: "End"},
		{in: "+8:00-21:00", wantErr: "Start"},
		{in: "08:00-21:00-22:00", wantErr: "End"},
		{in: "8am-9pm", wantErr: "Start"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseWindow(tt.in)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseWindow(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseWindow(%q) = %v, want error containing %q", tt.in, got, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalidWindow) {
				t.Errorf("error %q does not wrap ErrInvalidWindow", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.in) && tt.in != "" {
				t.Errorf("error %q does not quote the input %q", err, tt.in)
			}
		})
	}
}

func TestParseClockErrorsWrapErrInvalidClock(t *testing.T) {
	for _, in := range []string{"", "7", "07:5", "7:5x", "24:30", "12:60", "-1:00", "123:00"} {
		if _, err := ParseClock(in); !errors.Is(err, ErrInvalidClock) {
			t.Errorf("ParseClock(%q) error = %v, want ErrInvalidClock", in, err)
		}
	}
	if _, err := ParseWindow("7:5-21:00"); !errors.Is(err, ErrInvalidClock) || !errors.Is(err, ErrInvalidWindow) {
		t.Errorf("ParseWindow with a bad clock: %v, want both ErrInvalidWindow and ErrInvalidClock", err)
	}
}

func TestWindowValidate(t *testing.T) {
	tests := []struct {
		w     Window
		field string // expected in the error; empty means valid
	}{
		{Default, ""},
		{Window{0, EndOfDay}, ""},
		{Window{}, "empty"},
		{Window{-1, 60}, "Start"},
		{Window{EndOfDay, EndOfDay}, "Start"},
		{Window{60, 0}, "End"},
		{Window{60, EndOfDay + 1}, "End"},
		{Window{ClockOf(21, 0), ClockOf(8, 0)}, "overnight"},
	}
	for _, tt := range tests {
		err := tt.w.Validate()
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%v.Validate() = %v, want nil", tt.w, err)
		case tt.field != "" && (err == nil || !strings.Contains(err.Error(), tt.field) || !errors.Is(err, ErrInvalidWindow)):
			t.Errorf("%v.Validate() = %v, want ErrInvalidWindow naming %q", tt.w, err, tt.field)
		}
	}
}

func TestWindowText(t *testing.T) {
	var cfg struct {
		Encouragement Window `json:"encouragement"`
	}
	if err := json.Unmarshal([]byte(`{"encouragement":"10:00-19:30"}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if want := (Window{ClockOf(10, 0), ClockOf(19, 30)}); cfg.Encouragement != want {
		t.Fatalf("unmarshalled %v, want %v", cfg.Encouragement, want)
	}
	out, err := json.Marshal(cfg)
	if err != nil || string(out) != `{"encouragement":"10:00-19:30"}` {
		t.Fatalf("marshalled %s, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"encouragement":"22:00-07:00"}`), &cfg); !errors.Is(err, ErrInvalidWindow) {
		t.Fatalf("overnight window unmarshalled with error %v, want ErrInvalidWindow", err)
	}
	if _, err := json.Marshal(struct{ W Window }{}); !errors.Is(err, ErrInvalidWindow) {
		t.Fatalf("marshalling the zero Window: %v, want ErrInvalidWindow", err)
	}
	if got := (Window{ClockOf(23, 0), EndOfDay}).String(); got != "23:00-24:00" {
		t.Errorf("String() = %q", got)
	}
	if got := Clock(-5).String(); got != "Clock(-5)" {
		t.Errorf("Clock(-5).String() = %q", got)
	}
}

func TestNarrow(t *testing.T) {
	tests := []struct {
		a, b, want string // "" means the zero (empty) Window
	}{
		{"08:00-21:00", "10:00-19:00", "10:00-19:00"},
		{"10:00-19:00", "08:00-21:00", "10:00-19:00"},
		{"08:00-21:00", "06:00-12:00", "08:00-12:00"},
		{"08:00-21:00", "12:00-23:00", "12:00-21:00"},
		{"08:00-21:00", "08:00-21:00", "08:00-21:00"},
		{"08:00-21:00", "00:00-24:00", "08:00-21:00"},
		{"08:00-21:00", "20:59-22:00", "20:59-21:00"},
		{"08:00-12:00", "12:00-21:00", ""}, // touching: End is exclusive
		{"08:00-10:00", "14:00-21:00", ""},
	}
	for _, tt := range tests {
		got := window(t, tt.a).Narrow(window(t, tt.b))
		var want Window
		if tt.want != "" {
			want = window(t, tt.want)
		}
		if got != want {
			t.Errorf("%s narrowed by %s = %v, want %v", tt.a, tt.b, got, want)
		}
		if tt.want == "" && got.Validate() == nil {
			t.Errorf("%s narrowed by %s should not validate", tt.a, tt.b)
		}
	}
	if got := Default.Narrow(Window{ClockOf(21, 0), ClockOf(8, 0)}); got != (Window{}) {
		t.Errorf("narrowing by an invalid window = %v, want the zero Window", got)
	}
}

func TestContains(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		loc  *time.Location
		w    Window
		want bool
	}{
		{"07:59:59 EDT", utc(2025, 6, 10, 11, 59).Add(59 * time.Second), newYork, Default, false},
		{"08:00 EDT opens", utc(2025, 6, 10, 12, 0), newYork, Default, true},
		{"20:59:59 EDT last second", utc(2025, 6, 11, 0, 59).Add(59 * time.Second), newYork, Default, true},
		{"21:00 EDT closed", utc(2025, 6, 11, 1, 0), newYork, Default, false},
		{"21:00 UTC is 17:00 EDT", utc(2025, 6, 10, 21, 0), newYork, Default, true},
		{"same instant in LA is 14:00", utc(2025, 6, 10, 21, 0), losAngeles, Default, true},
		{"10:30 EDT is 07:30 PDT", utc(2025, 6, 10, 14, 30), losAngeles, Default, false},
		{"08:00 IST", utc(2025, 6, 10, 2, 30), kolkata, Default, true},
		{"07:59 IST", utc(2025, 6, 10, 2, 29), kolkata, Default, false},
		{"20:59 Lord Howe +11", utc(2025, 1, 10, 9, 59), lordHowe, Default, true},
		{"21:00 Lord Howe +11", utc(2025, 1, 10, 10, 0), lordHowe, Default, false},
		{"01:30 EDT, repeated hour", utc(2025, 11, 2, 5, 30), newYork, window(t, "01:00-02:00"), true},
		{"01:30 EST, repeated hour again", utc(2025, 11, 2, 6, 30), newYork, window(t, "01:00-02:00"), true},
		{"23:59 until midnight", utc(2025, 6, 11, 3, 59), newYork, window(t, "23:00-24:00"), true},
		{"00:00 after midnight", utc(2025, 6, 11, 4, 0), newYork, window(t, "23:00-24:00"), false},
		{"empty window", utc(2025, 6, 10, 16, 0), newYork, Window{}, false},
	}
	for _, tt := range tests {
		if got := tt.w.Contains(tt.at, tt.loc); got != tt.want {
			t.Errorf("%s: %v.Contains(%s) = %v, want %v", tt.name, tt.w, fmtInstant(tt.at, tt.loc), got, tt.want)
		}
		// The zone the instant is expressed in does not matter, only loc.
		if got := tt.w.Contains(tt.at.In(london), tt.loc); got != tt.want {
			t.Errorf("%s (instant in London): got %v, want %v", tt.name, got, tt.want)
		}
	}
}
