// Package encouragement sends a client's opt-in encouragement texts on the
// days and at the hour they chose, on their own clock (PRODUCT.md, job 2).
//
// The flow, in three steps:
//
//  1. Schedule (Job.Sync, run by the ingest consumer after
//     consent.granted/revoked, encouragement.schedule_set and
//     client.upserted): when the client has a schedule and consent for
//     encouragement on a channel with an address, the schedule lives on
//     JetStream as one cron message schedule per client
//     (SubjectSchedule), with Nats-Schedule-Time-Zone set to the client's
//     IANA zone, so the server fires it at 10:00 in New York whatever
//     daylight saving does. A new schedule or zone replaces it (one
//     schedule per subject); without consent it is purged. A consent
//     granted for encouragement starts the practice's default schedule
//     (Config.DefaultSchedule) unless the client has one. nudge runs no
//     cron loop of its own.
//  2. Fire (Job.Handle, the "encouragement" consumer): each fire becomes
//     one notification keyed encouragement:<client>:<client-local date>
//     on the channel consumers.ChooseChannel picks. A second fire on the
//     same local day is recorded as a cadence skip, never a second text; a
//     fire that finds no consent purges the schedule (whatever path
//     revoked it) and records why.
//  3. Send (consumers.Deliverer with the usual checks: consent,
//     suppression, care pause, quiet hours, cadence): the line is chosen
//     at send time by Rotation from the seven-theme library in the client's
//     locale, never repeating a line until every line (of the themes the
//     client narrowed to) has been used, and kept per notification so a
//     retry says the same.
package encouragement
