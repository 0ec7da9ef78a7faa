package platform

import (
	"fmt"

	"github.com/liberation/monetization/shared/httpapi"
)

// requestCounter makes the counter of per-user rate limits for a runtime; shared/store registers it
// (store.Store is the counter), so only a function that links the table can be limited.
var requestCounter func(*Runtime) httpapi.RequestCounter

// RegisterRequestCounter is how shared/store gives the HTTP frame its counter (at init).
func RegisterRequestCounter(f func(*Runtime) httpapi.RequestCounter) { requestCounter = f }

// rateLimit applies the function's manifest RateLimit to the handler Build made
// (httpapi.RateLimited, decision 0077). A RateLimit on a function that is not an HTTP route, or that
// links no table, is an init failure, not a silent no-limit.
func rateLimit[H any](rt *Runtime, h H) (H, error) {
	if rt.Fn.RateLimit == nil {
		return h, nil
	}
	lam, ok := any(h).(httpapi.Lambda)
	if !ok {
		return h, fmt.Errorf("function %s: RateLimit applies to HTTP routes only (its handler is a %T)", rt.Fn.Name, h)
	}
	if requestCounter == nil {
		return h, fmt.Errorf("function %s: RateLimit needs the table (declare Table with UpdateItem)", rt.Fn.Name)
	}
	out, _ := any(httpapi.RateLimited(rt.Fn, requestCounter(rt), rt.Clock.Now, rt.Log, lam)).(H)
	return out, nil
}
