// Package ops serves the operator's health routes (issue 19): GET /admin/queues, the depth of every
// queue and of its dead-letter queue, which `make smoke` checks (infra/smoke).
package ops

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// wiring is what the ops functions make once per cold start (decision 0074).
type wiring struct {
	rt     *platform.Runtime
	Depths Depths
	Queues []QueueURLs
}

func newWiring(rt *platform.Runtime) (wiring, error) {
	c := sqs.NewFromConfig(rt.AWS, func(o *sqs.Options) { o.BaseEndpoint = rt.Endpoint("SQS") })
	return wiring{rt: rt, Depths: SQSDepths{Client: c}, Queues: URLsFromEnv(rt.Fn, rt.Getenv)}, nil
}

func wireListQueues(w wiring) (httpapi.Lambda, error) {
	return httpapi.Route(w.rt.Fn, handleListQueues(w.Depths, w.Queues)), nil
}

// Depths reads a queue's depth by its URL (SQSDepths in a function, a fake in tests).
type Depths interface {
	Depth(ctx context.Context, url string) (Depth, error)
}

// QueueURLs locates one manifest queue and its dead-letter queue.
type QueueURLs struct {
	Name   string
	URL    string
	DLQURL string
}

// URLsFromEnv is every queue fn inspects with the URLs from its environment (QUEUE_URL_<NAME>,
// DLQ_URL_<NAME>); an empty URL is reported by the route as a failure, not skipped.
func URLsFromEnv(fn manifest.Function, getenv func(string) string) []QueueURLs {
	var out []QueueURLs
	for _, q := range fn.InspectedQueues() {
		out = append(out, QueueURLs{Name: q.Name, URL: getenv(q.EnvVar()), DLQURL: getenv(q.DLQEnvVar())})
	}
	return out
}

// QueueHealth is one queue as GET /admin/queues reports it.
type QueueHealth struct {
	Name     string `json:"name"`
	Visible  int64  `json:"visible"`
	InFlight int64  `json:"inFlight"`
	// DeadLetters is the DLQ's visible messages: each failed every delivery and waits for a person
	// (the queue's runbook). Any is unhealthy.
	DeadLetters int64 `json:"deadLetters"`
	Healthy     bool  `json:"healthy"`
}

// Report is the answer of GET /admin/queues: healthy when every queue is.
type Report struct {
	Healthy bool          `json:"healthy"`
	Queues  []QueueHealth `json:"queues"`
}

// Health reads each queue's and DLQ's depth, in the manifest's order.
func Health(ctx context.Context, d Depths, queues []QueueURLs) (Report, error) {
	rep := Report{Healthy: true, Queues: []QueueHealth{}}
	for _, q := range queues {
		if q.URL == "" || q.DLQURL == "" {
			return Report{}, apperr.New(apperr.Internal, "queue %q has no URL or DLQ URL configured", q.Name)
		}
		main, err := d.Depth(ctx, q.URL)
		if err != nil {
			return Report{}, err
		}
		dlq, err := d.Depth(ctx, q.DLQURL)
		if err != nil {
			return Report{}, err
		}
		h := QueueHealth{Name: q.Name, Visible: main.Visible, InFlight: main.InFlight, DeadLetters: dlq.Visible,
			Healthy: dlq.Visible == 0}
		rep.Healthy = rep.Healthy && h.Healthy
		rep.Queues = append(rep.Queues, h)
	}
	return rep, nil
}

// handleListQueues serves GET /admin/queues (admins; the frame answers 403 to anyone else). It
// answers 200 whether or not the queues are healthy: the body says which are not.
func handleListQueues(d Depths, queues []QueueURLs) httpapi.Handler {
	return func(ctx context.Context, _ *httpapi.Request) (httpapi.Response, error) {
		rep, err := Health(ctx, d, queues)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(rep), nil
	}
}
