package migratejob

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/migrate"
)

// TestOptionsOfTheDetail: the schedule's and the deploy's detail ({"job": "migrate"}) is a live
// run; {"dryRun": true} (or the string make migrate DRY_RUN=1 sends) a dry run; anything else is
// refused with what is wrong, before anything is read.
func TestOptionsOfTheDetail(t *testing.T) {
	for _, c := range []struct {
		detail string
		want   migrate.Options
		err    bool
	}{
		{``, migrate.Options{}, false},
		{`{"job":"migrate"}`, migrate.Options{}, false},
		{`{"job":"migrate","dryRun":true}`, migrate.Options{DryRun: true}, false},
		{`{"dryRun":"true"}`, migrate.Options{DryRun: true}, false},
		{`{"dryRun":"false"}`, migrate.Options{}, false},
		{`{"dryRun":"yes"}`, migrate.Options{}, true},
		{`[]`, migrate.Options{}, true},
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
