package logmask

import "testing"

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Phone numbers: E.164 and formatted.
		{"+14155550123", "+1415*****23"},
		{"to +14155550123.", "to +1415*****23."},
		{"'+14155550123'", "'+1415*****23'"},
		{"+1 (415) 555-0123", "+1415*****23"},
		{"+1-415-555-0123", "+1415*****23"},
		{"+44 20 7946 0958", "+4420******58"},
		{"+447700900123", "+4477******23"},
		{"+353871234567", "+3538******67"},
		{"+4930123456", "+493*****56"},
		{"+12345678", "+1*****78"},
		{"(415) 555-0123", "415*****23"},
		{"call 415-555-0123 today", "call 415*****23 today"},
		{"415.555.0123", "415*****23"},
		{"1-415-555-0123", "1415*****23"},
		{"phone=4155550123", "phone=415*****23"},
		{"To=%2B14155550123&Body=hi", "To=%2B1415*****23&Body=hi"},
		{"To%3D%2B14155550123", "To%3D%2B1415*****23"},
		{"numbers +14155550123, +14155550199", "numbers +1415*****23, +1415*****99"},
		{"The 'To' number +14155550123 is not a valid phone number.", "The 'To' number +1415*****23 is not a valid phone number."},

		// Emails.
		{"jane.doe@example.com", "j***@example.com"},
		{"<jane+tag@mail.example.co.uk>", "<j***@mail.example.co.uk>"},
		{"email=jane%40example.com", "email=j***%40example.com"},
		{"4155550123@txt.att.net", "4***@txt.att.net"},
		{"a@b.io and x_y@z.org", "a***@b.io and x***@z.org"},

		// Left alone.
		{"", ""},
		{"hello", "hello"},
		{"2024-01-15", "2024-01-15"},
		{"2024-01-15T10:30:00+02:00", "2024-01-15T10:30:00+02:00"},
		{"2024-01-15 10:30:00", "2024-01-15 10:30:00"},
		{"127.0.0.1:8080", "127.0.0.1:8080"},
		{"192.168.100.200", "192.168.100.200"},
		{"550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440000"},
		{"SM0123456789012345abcdef0123456789", "SM0123456789012345abcdef0123456789"},
		{"1234567890abcdef", "1234567890abcdef"},
		{"v1.2.3", "v1.2.3"},
		{"retry_in=1m4s attempt=12", "retry_in=1m4s attempt=12"},
		{"twilio:21211", "twilio:21211"},
		{"1234567", "1234567"},
		{"3.14159265358979", "3.14159265358979"},
		{"user@localhost", "user@localhost"},
		{"/u/0123456789", "/u/0123456789"},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStringNoAllocWhenClean(t *testing.T) {
	for _, s := range []string{
		"notification deferred",
		"2024-01-15T10:30:00Z stream_seq=42 delivery 01JABCDEF",
		"request took 1.234567s for 12 of 3456 rows",
	} {
		if n := testing.AllocsPerRun(100, func() { _ = String(s) }); n != 0 {
			t.Errorf("String(%q) allocated %v times, want 0", s, n)
		}
	}
}

func BenchmarkString(b *testing.B) {
	b.Run("clean", func(b *testing.B) {
		for b.Loop() {
			_ = String("message will be retried")
		}
	})
	b.Run("digits", func(b *testing.B) {
		for b.Loop() {
			_ = String("2024-01-15T10:30:00Z delivery 550e8400-e29b-41d4-a716-446655440000")
		}
	})
	b.Run("phone", func(b *testing.B) {
		for b.Loop() {
			_ = String("sending to +14155550123 and jane@example.com")
		}
	})
}
