package privacy

import (
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/manifest"
)

// Export statuses. Expired is shown, never stored: a ready export whose link's 24 h have passed.
const (
	StatusQueued  = "queued"
	StatusRunning = "running"
	StatusReady   = "ready"
	StatusFailed  = "failed"
	StatusExpired = "expired"
)

// Timings of an export (docs/privacy.md "Retention").
const (
	// LinkTTL is how long the e-mailed (and the GET route's) download link works.
	LinkTTL = 24 * time.Hour
	// KeepRecord is how long the export item stays in the table after it finished (TTL), so the
	// GET route can still say "expired"; the bucket deletes the files after manifest.ExportsDays.
	KeepRecord = 30 * 24 * time.Hour
	// StaleAfter: an export not moved for this long is started again by the next POST (its message
	// was lost or went to the DLQ).
	StaleAfter = 15 * time.Minute
	// MaxAttempts is how many failed runs in a row fail the export (the message would go to the DLQ
	// after manifest's MaxReceiveCount; failing it first frees the user to ask again).
	MaxAttempts = 4
)

// IDPrefix starts every export id ("exp_" + ULID).
const IDPrefix = "exp"

// Export is the export item (docs/data-model.md "Privacy"): status, the checkpoint of the build
// (area index, that area's cursor, parts written) and, once ready, the zip's key and the link's end.
type Export struct {
	PK        string    `dynamodbav:"PK"`
	SK        string    `dynamodbav:"SK"`
	Type      string    `dynamodbav:"type"`
	GSI1PK    string    `dynamodbav:"GSI1PK,omitempty"` // the admins' list of privacy requests
	GSI1SK    string    `dynamodbav:"GSI1SK,omitempty"`
	ID        string    `dynamodbav:"id"`
	UserID    string    `dynamodbav:"userId"`
	Email     string    `dynamodbav:"email,omitempty"` // the verified address the link goes to
	Status    string    `dynamodbav:"status"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
	// Checkpoint: Areas is fixed at the first run (the registry's order then), Area indexes it,
	// Cursor is that area's exporter cursor, Part the next part object's number, Items the items
	// written so far, Step the number of checkpoints written.
	Areas    []string `dynamodbav:"areas,omitempty"`
	Area     int      `dynamodbav:"area"`
	Cursor   string   `dynamodbav:"cursor,omitempty"`
	Part     int      `dynamodbav:"part"`
	Items    int      `dynamodbav:"items"`
	Step     int      `dynamodbav:"step"`
	Attempts int      `dynamodbav:"attempts"` // failed runs in a row
	Error    string   `dynamodbav:"error,omitempty"`
	// Ready: the zip and the link's end.
	ObjectKey     string     `dynamodbav:"objectKey,omitempty"`
	Files         int        `dynamodbav:"files"`
	ReadyAt       *time.Time `dynamodbav:"readyAt,omitempty"`
	LinkExpiresAt *time.Time `dynamodbav:"linkExpiresAt,omitempty"`
	ExpiresAt     int64      `dynamodbav:"expiresAt,omitempty"` // TTL, set when finished
	Version       int64      `dynamodbav:"version"`
}

// Finished reports a ready or failed export.
func (e Export) Finished() bool { return e.Status == StatusReady || e.Status == StatusFailed }

// StatusAt is the status shown at now (a ready export whose link has ended is expired).
func (e Export) StatusAt(now time.Time) string {
	if e.Status == StatusReady && e.LinkExpiresAt != nil && !now.Before(*e.LinkExpiresAt) {
		return StatusExpired
	}
	return e.Status
}

// Prefix is where the export's objects are: exports/<userId>/<exportId>/.
func (e Export) Prefix() string { return manifest.ExportsPrefix + e.UserID + "/" + e.ID + "/" }

// PartKey is the object of one page written by the build.
func (e Export) PartKey(n int) string { return e.Prefix() + "parts/" + pad(n) + ".json" }

// ZipKey is the finished export.
func (e Export) ZipKey() string { return e.Prefix() + "personal-data-" + e.ID + ".zip" }

func pad(n int) string {
	s := []byte("000000")
	for i := len(s) - 1; i >= 0 && n > 0; i-- {
		s[i] = byte('0' + n%10)
		n /= 10
	}
	return string(s)
}

// View is the export as the API shows it (docs/openapi.yaml ExportView).
type View struct {
	ExportID     string     `json:"exportId"`
	Status       string     `json:"status"`
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
	Items        int        `json:"items"`
	ReadyAt      *time.Time `json:"readyAt,omitempty"`
	URL          string     `json:"url,omitempty"`
	URLExpiresAt *time.Time `json:"urlExpiresAt,omitempty"`
}

// Message is the payload on the exports queue: which export to build (or go on building).
type Message struct {
	UserID   string `json:"userId"`
	ExportID string `json:"exportId"`
	Step     int    `json:"step"`
}

// MessageBuild is the message type on manifest.ExportsQueue.
const MessageBuild = "personal-export.build"

// dedupeID of the message that goes on from step.
func (m Message) dedupeID() string {
	return "personal-export#" + m.ExportID + "#" + strconv.Itoa(m.Step)
}
