package quiethours

// Client time zones arrive as IANA names in client.upserted events. Embedding
// the zone database means time.LoadLocation gives the same answer on a
// minimal container image with no /usr/share/zoneinfo as on a developer
// machine, so quiet hours never silently fall back to UTC.
import _ "time/tzdata"
