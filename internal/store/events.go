package store

import "context"

// EventLookup finds recorded events by id. CloudEvents identifies an event
// by source and id together, so two producers may both send id "42"; the
// store keeps and applies each (the events table is keyed on the pair).
type EventLookup interface {
	// EventsByID returns every recorded event with this id, one per
	// source, sorted by source; none is an empty slice, not an error.
	EventsByID(ctx context.Context, id string) ([]EventRecord, error)
}

// LedgerEventID is the event id a ledger row (the consent ledger) records
// for ev: the id alone for nudge's own sources, which are unique by
// construction, and "id source" for a producer's event, so that two
// sources' events with the same id are two entries, not one and a replay.
// Neither part may contain whitespace, so the pair reads back unambiguously
// (publishers.MsgID builds the same key for Nats-Msg-Id).
func (ev EventRef) LedgerEventID() string {
	if ev.Source == "" {
		return ev.ID
	}
	return ev.ID + " " + ev.Source
}
