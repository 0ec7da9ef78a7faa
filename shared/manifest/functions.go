package manifest

// Functions lists every Lambda function, area by area (each area file's declare call appends its
// own). Order is the order in docs and templates.
var Functions []Function

// Queues lists every SQS queue. Each gets a DLQ named "<name>-dlq".
var Queues []QueueDef

func route(method, path string) Trigger { return Trigger{Kind: HTTP, Method: method, Path: path} }

// Defaults applied where a Function leaves sizing unset.
const (
	DefaultTimeoutSeconds = 10
	DefaultMemoryMB       = 256
)

// Timeout returns the function's timeout in seconds.
func (f Function) Timeout() int {
	if f.TimeoutSeconds == 0 {
		return DefaultTimeoutSeconds
	}
	return f.TimeoutSeconds
}

// Memory returns the function's memory in MB.
func (f Function) Memory() int {
	if f.MemoryMB == 0 {
		return DefaultMemoryMB
	}
	return f.MemoryMB
}
