package consumers

import (
	"sync"
	"time"
)

// zones caches time.LoadLocation, which reads and parses the zone file on
// every call: the deliverer looks up a client's zone for every message.
var zones sync.Map // name → *time.Location

// loadZone is time.LoadLocation, cached. Unknown names are not cached (an
// error is cheap and rare: intake validates zones).
func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}
