package backfill

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/books/backfill/walk"
)

// TestOptionsOfTheDetail: the schedule's detail ({"job": …}) is a live run that goes on; an
// operator's {"dryRun": true, "restart": true} (or the strings make job sends) asks for a dry run
// from the start; anything else is refused with what is wrong.
func TestOptionsOfTheDetail(t *testing.T) {
	for _, c := range []struct {
		detail string
		want   walk.Options
		err    bool
	}{
		{``, walk.Options{}, false},
		{`{"job":"backfill-journal"}`, walk.Options{}, false},
		{`{"job":"backfill-journal","dryRun":true}`, walk.Options{DryRun: true}, false},
		{`{"dryRun":"true","restart":"true"}`, walk.Options{DryRun: true, Restart: true}, false},
		{`{"dryRun":false,"restart":"false"}`, walk.Options{}, false},
		{`{"dryRun":"yes"}`, walk.Options{}, true},
		{`{"restart":1}`, walk.Options{}, true},
		{`[]`, walk.Options{}, true},
	} {
		got, err := OptionsOf(events.EventBridgeEvent{Detail: json.RawMessage(c.detail)})
		if c.err != (err != nil) || got != c.want {
			t.Errorf("detail %s: %+v, %v", c.detail, got, err)
		}
		if err != nil && !apperr.Is(err, apperr.Invalid) {
			t.Errorf("detail %s: %v is not Invalid", c.detail, err)
		}
	}
}
