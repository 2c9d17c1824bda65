package storetest

import (
	"slices"
	"testing"

	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/vocab"
)

func testEncouragementSchedule(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetEncouragementSchedule(ctx, "c-ana")
	wantErr(t, "no schedule", err, store.ErrNotFound)

	def := store.EncouragementSchedule{ClientID: "c-ana", Cron: "0 0 10 * * mon,thu", Days: "mon,thu", At: "10:00", Source: store.ScheduleSourceDefault}
	got, created, err := s.EnsureEncouragementSchedule(ctx, def)
	noErr(t, "EnsureEncouragementSchedule", err)
	wantEqual(t, "created", created, true)
	wantEqual(t, "cron", got.Cron, def.Cron)
	wantEqual(t, "days", got.Days, "mon,thu")
	wantEqual(t, "no themes", len(got.Themes), 0)

	set := store.EncouragementSchedule{ClientID: "c-ana", Cron: "0 30 8 * * sat", Themes: []string{"patience", "support"}, Source: store.ScheduleSourceEvent}
	// Any event wins over the default, even one dated before it was made.
	res, err := s.ApplyEncouragementSchedule(ctx, ev("sch-1", "encouragement.schedule_set", at(-100000)), set)
	wantResult(t, "schedule set", res, err, applied)
	res, err = s.ApplyEncouragementSchedule(ctx, ev("sch-1", "encouragement.schedule_set", at(-100000)), set)
	wantResult(t, "replayed", res, err, duplicate)
	older := set
	older.Cron = "0 0 9 * * *"
	res, err = s.ApplyEncouragementSchedule(ctx, ev("sch-0", "encouragement.schedule_set", at(-100001)), older)
	wantResult(t, "older event", res, err, stale)

	// The default never overwrites a schedule the client has.
	got, created, err = s.EnsureEncouragementSchedule(ctx, def)
	noErr(t, "EnsureEncouragementSchedule again", err)
	wantEqual(t, "created again", created, false)
	wantEqual(t, "kept cron", got.Cron, "0 30 8 * * sat")
	wantEqual(t, "kept themes", slices.Equal(got.Themes, []string{"patience", "support"}), true)
	wantEqual(t, "source", got.Source, store.ScheduleSourceEvent)
	wantEqual(t, "no days for a cron schedule", got.Days, "")

	_, err = s.ApplyEncouragementSchedule(ctx, ev("sch-2", "encouragement.schedule_set", at(100001)), store.EncouragementSchedule{ClientID: "c-ana", Source: "event"})
	wantErr(t, "no cron", err, store.ErrInvalid)
	_, _, err = s.EnsureEncouragementSchedule(ctx, store.EncouragementSchedule{ClientID: "c-bo", Cron: "0 0 10 * * *", Source: "whim"})
	wantErr(t, "unknown source", err, store.ErrInvalid)
}

func testEncouragementLinePicks(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := store.LinePick{Key: "encouragement:c-ana:2030-03-04", ClientID: "c-ana", Line: "Be patient with yourself.", Theme: "patience", Cycle: 1, PickedAt: at(0)}
	got, created, err := s.RecordLinePick(ctx, p)
	noErr(t, "RecordLinePick", err)
	wantEqual(t, "created", created, true)
	wantTime(t, "picked at", got.PickedAt, at(0))

	again := p
	again.Line, again.PickedAt = "Another line.", at(5)
	got, created, err = s.RecordLinePick(ctx, again)
	noErr(t, "RecordLinePick again", err)
	wantEqual(t, "created again", created, false)
	wantEqual(t, "the first pick stays", got.Line, p.Line)

	_, _, err = s.RecordLinePick(ctx, store.LinePick{Key: "encouragement:c-ana:2030-03-05", ClientID: "c-ana", Line: "x", Cycle: 0})
	wantErr(t, "cycle 0", err, store.ErrInvalid)

	create(t, s, store.Delivery{IdempotencyKey: p.Key, ClientID: "c-ana", Channel: vocab.SMS, Purpose: vocab.Encouragement,
		Template: "encouragement", To: "+14155550123", State: store.DeliverySkipped, Reason: "care_paused"})
	_, _, err = s.RecordLinePick(ctx, store.LinePick{Key: "encouragement:c-ana:2030-03-05", ClientID: "c-ana", Line: "Speak kindly to yourself.", Theme: "self_compassion", Cycle: 1, PickedAt: at(1440)})
	noErr(t, "second pick", err)
	_, _, err = s.RecordLinePick(ctx, store.LinePick{Key: "encouragement:c-bo:2030-03-05", ClientID: "c-bo", Line: "Other client.", Cycle: 1, PickedAt: at(1440)})
	noErr(t, "another client's pick", err)

	picks, err := s.LinePicks(ctx, "c-ana", 10)
	noErr(t, "LinePicks", err)
	wantEqual(t, "picks", len(picks), 2)
	wantEqual(t, "newest first", picks[0].Key, "encouragement:c-ana:2030-03-05")
	wantEqual(t, "no ledger row yet", picks[0].DeliveryState, store.DeliveryState(""))
	wantEqual(t, "ledger state joined", picks[1].DeliveryState, store.DeliverySkipped)
	wantEqual(t, "theme", picks[1].Theme, "patience")
	picks, err = s.LinePicks(ctx, "c-ana", 1)
	noErr(t, "LinePicks limit", err)
	wantEqual(t, "limit", len(picks), 1)
}
