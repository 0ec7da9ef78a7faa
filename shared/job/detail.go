package job

import (
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
)

// Detail decodes a run's options from the event's detail into v (a pointer to the job's detail
// struct). An absent or null detail leaves v as it is: the schedule's own runs carry none. A detail
// that is not what the job takes is Invalid, saying what it should be (shape, e.g. "an object with
// dryRun (true or false)").
func Detail(ev events.EventBridgeEvent, v any, shape string) error {
	if len(ev.Detail) == 0 {
		return nil
	}
	if err := json.Unmarshal(ev.Detail, v); err != nil {
		return apperr.New(apperr.Invalid, "the event's detail is not %s: %v", shape, err)
	}
	return nil
}
