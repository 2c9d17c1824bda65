package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/trace"

	"github.com/nudgehq/nudge/internal/logmask"
	"github.com/nudgehq/nudge/internal/store"
	"github.com/nudgehq/nudge/internal/tracing"
	"github.com/nudgehq/nudge/publishers"
)

type acceptedEvent struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Duplicate bool   `json:"duplicate"`
}

type rejectedEvent struct {
	Index  int                     `json:"index"`
	ID     string                  `json:"id,omitempty"`
	Errors []publishers.FieldError `json:"errors"`
	// MoreErrors counts the event's problems beyond those listed.
	MoreErrors int `json:"more_errors,omitempty"`
}

// Batch answers stay small whatever the batch: a 400 lists the problems of
// the first MaxListedRejections invalid events, each cut at
// MaxListedFieldErrors, and counts the rest.
const (
	MaxListedRejections  = 50
	MaxListedFieldErrors = 20
)

// postEvents accepts CloudEvents in the three modes of the HTTP binding:
// structured (one event object, or — nudge's extension — an array of
// them), binary (attributes in ce-* headers, the data as the body) and
// batched (application/cloudevents-batch+json, an array). All three go
// through the same validation.
//
// Batch semantics, in two steps:
//   - Validation is all or nothing: if any event is invalid, none is
//     published; the 400 says how many were invalid and lists the first
//     ones with their problems.
//   - Publishing is in order, each event acknowledged by JetStream (PubAck)
//     before the next, so an accepted event is durable. If the bus fails
//     part way, the 503 lists the events already accepted and those not;
//     sending the whole batch again is safe (repeats are stored once).
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			e := errTooLarge
			e.Message = fmt.Sprintf("request body is larger than %d bytes", s.cfg.MaxBodyBytes)
			writeError(w, e)
			return
		}
		writeError(w, apiError{http.StatusBadRequest, "unreadable_body", "could not read request body: " + err.Error(), ""})
		return
	}
	var (
		events   []publishers.Event
		perEvent []error
	)
	switch mediaType(r) {
	case publishers.ContentTypeCloudEventsBatch:
		// Batched mode: always an array, even of one.
		if b := bytes.TrimSpace(raw); len(b) > 0 && b[0] != '[' && json.Valid(b) {
			writeError(w, apiError{http.StatusBadRequest, "invalid_batch", "a " + publishers.ContentTypeCloudEventsBatch + " body must be a JSON array of events", ""})
			return
		}
		events, perEvent, err = publishers.ParseBatch(raw)
	default:
		if publishers.IsBinary(r.Header) {
			// Binary mode: the attributes in ce-* headers, the data as the body.
			ev, perr := publishers.ParseBinary(r.Header, raw)
			events, perEvent = []publishers.Event{ev}, []error{perr}
			break
		}
		// Structured mode (application/cloudevents+json), or plain JSON:
		// one event object or an array of them.
		events, perEvent, err = publishers.ParseBatch(raw)
	}
	if err != nil {
		e := errBadJSON
		e.Message = err.Error()
		writeError(w, e)
		return
	}
	s.acceptEvents(w, r, events, perEvent)
}

// mediaType is the request's Content-Type without parameters, lower case.
func mediaType(r *http.Request) string {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt
}

// acceptEvents answers for a parsed batch (whatever its HTTP encoding):
// 400 when any event is invalid, else publishes them in order.
func (s *Server) acceptEvents(w http.ResponseWriter, r *http.Request, events []publishers.Event, perEvent []error) {
	if len(events) == 0 {
		writeError(w, apiError{http.StatusBadRequest, "empty_batch", "the array holds no events", ""})
		return
	}
	var rejected []rejectedEvent
	invalid := 0
	for i, perr := range perEvent {
		if perr == nil {
			continue
		}
		invalid++
		if len(rejected) == MaxListedRejections {
			continue
		}
		re := rejectedEvent{Index: i, ID: events[i].ID}
		var ve *publishers.ValidationError
		if errors.As(perr, &ve) {
			re.Errors = ve.Fields
		} else {
			re.Errors = []publishers.FieldError{{Code: "invalid", Message: perr.Error()}}
		}
		if len(events) > 1 && len(re.Errors) > MaxListedFieldErrors {
			re.MoreErrors = len(re.Errors) - MaxListedFieldErrors
			re.Errors = re.Errors[:MaxListedFieldErrors]
		}
		rejected = append(rejected, re)
	}
	if invalid > 0 {
		// All or nothing: every event of the batch was refused.
		for _, ev := range events {
			s.countEvent(ev.Type, "rejected")
		}
		msg := fmt.Sprintf("%d of %d events are invalid; nothing was accepted", invalid, len(events))
		if invalid > len(rejected) {
			msg += fmt.Sprintf(" (the first %d are listed)", len(rejected))
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error": apiError{
				Code:    "invalid_events",
				Message: msg,
				Hint:    "fix the fields listed per event and send the batch again",
			},
			"invalid": invalid,
			"events":  rejected,
		})
		return
	}

	accepted := make([]acceptedEvent, 0, len(events))
	for i, ev := range events {
		// One span per event, continuing the producer's trace when the
		// event carries a CloudEvents traceparent extension.
		ctx, span := tracing.Tracer().Start(tracing.FromCloudEvent(r.Context(), ev.Extensions), "intake "+ev.Type,
			trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(tracing.AttrEventType.String(ev.Type), tracing.AttrEventID.String(logmask.String(ev.ID)), tracing.AttrEventSource.String(logmask.String(ev.Source))))
		res, err := s.cfg.Publisher.Publish(ctx, ev)
		tracing.End(span, err)
		if err != nil {
			s.cfg.Logger.Error("publishing event", "event_id", ev.ID, "type", ev.Type, "err", err)
			pending := make([]string, 0, len(events)-i)
			for _, rest := range events[i:] {
				pending = append(pending, rest.ID)
				s.countEvent(rest.Type, "unavailable")
			}
			// A bus election or restart takes seconds: say when to try again.
			w.Header().Set("Retry-After", strconv.Itoa(intakeRetryAfterSeconds))
			e := errUnavailable
			if len(accepted) > 0 {
				e.Message = fmt.Sprintf("event bus unavailable: %d of %d events were accepted (listed in accepted), %d were not (listed in not_accepted)",
					len(accepted), len(events), len(pending))
				e.Hint = "send the batch again (or only the events not accepted): repeats are stored once"
			}
			writeJSON(w, e.Status, map[string]any{
				"error":        e,
				"accepted":     accepted,
				"not_accepted": pending,
			})
			return
		}
		accepted = append(accepted, acceptedEvent{ID: ev.ID, Type: ev.Type, Duplicate: res.Duplicate})
		if res.Duplicate {
			s.countEvent(ev.Type, "duplicate")
		} else {
			s.countEvent(ev.Type, "accepted")
		}
	}
	s.audit(r, "events.accepted", "", fmt.Sprintf(`{"count":%d}`, len(accepted)))
	writeJSON(w, http.StatusAccepted, map[string]any{"accepted": accepted})
}

// intakeRetryAfterSeconds is the Retry-After of a 503 from intake.
const intakeRetryAfterSeconds = 2

// countEvent reports one intake event to metrics, when configured.
func (s *Server) countEvent(typ, result string) {
	if s.cfg.Events != nil {
		s.cfg.Events(typ, result)
	}
}

// audit records an action by whoever the request acts for (a staff
// member's email or "api-token").
func (s *Server) audit(r *http.Request, action, target, detail string) {
	s.auditAs(r, actorName(r), action, target, detail)
}

func (s *Server) auditAs(r *http.Request, actor, action, target, detail string) {
	err := s.cfg.Store.AppendAudit(r.Context(), store.AuditEntry{
		Actor:  actor,
		Action: action,
		Target: target,
		Detail: detail,
	})
	if err != nil {
		s.cfg.Logger.Warn("writing audit log", "action", action, "err", err)
	}
}
