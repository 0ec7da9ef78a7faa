package job

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
)

func TestDetail(t *testing.T) {
	type det struct {
		DryRun Flag   `json:"dryRun"`
		Day    string `json:"day"`
	}
	for _, raw := range []string{"", "null"} {
		d := det{Day: "kept"}
		if err := Detail(events.EventBridgeEvent{Detail: []byte(raw)}, &d, "an object"); err != nil || d.Day != "kept" || d.DryRun {
			t.Errorf("detail %q: %+v %v (want v untouched)", raw, d, err)
		}
	}
	var d det
	if err := Detail(events.EventBridgeEvent{Detail: []byte(`{"dryRun":true,"day":"2026-12-01"}`)}, &d, "an object"); err != nil || !bool(d.DryRun) || d.Day != "2026-12-01" {
		t.Errorf("decoded %+v %v", d, err)
	}
	err := Detail(events.EventBridgeEvent{Detail: []byte(`[1]`)}, &d, "an object with dryRun")
	if !apperr.Is(err, apperr.Invalid) || !strings.Contains(err.Error(), "the event's detail is not an object with dryRun") {
		t.Errorf("a list: %v", err)
	}
}
