package privacy

import (
	"strconv"
	"time"
)

// Erasure request statuses (docs/privacy.md "Erasure").
const (
	ErasureQueued  = "queued"
	ErasureRunning = "running"
	// ErasureHeld: everything was erased but what a legal hold postpones (Holds say what and
	// why); asking again (the user or an admin) runs the erasure again once the hold has ended.
	ErasureHeld   = "held"
	ErasureDone   = "done"
	ErasureFailed = "failed" // an area failed MaxAttempts runs in a row; asking again resumes
)

// ErasureIDPrefix starts every erasure request id ("era_" + ULID); PseudonymPrefix every pseudonym.
const (
	ErasureIDPrefix = "era"
	PseudonymPrefix = "anon"
)

// ConfirmErase is the confirmation DELETE /me must carry (?confirm=ERASE): erasure
// cannot be undone, so a request sent by mistake (a client bug, a replayed DELETE) is refused.
const ConfirmErase = "ERASE"

// KeepErasureRecord is how long a finished erasure request stays (TTL): the proof that the request
// was received and carried out (GDPR article 5(2)), and what answers a second request.
const KeepErasureRecord = 3 * 365 * 24 * time.Hour

// RequestedBySelf marks a request the person made (DELETE /me); otherwise RequestedBy is the
// admin's user id.
const RequestedBySelf = "self"

// Erasure is the erasure request item (docs/data-model.md "Privacy"): one per user, with the
// checkpoint of the current pass (area index, that area's cursor) and the holds found in it.
type Erasure struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	Type        string    `dynamodbav:"type"`
	GSI1PK      string    `dynamodbav:"GSI1PK"`
	GSI1SK      string    `dynamodbav:"GSI1SK"`
	ID          string    `dynamodbav:"id"`
	UserID      string    `dynamodbav:"userId"`
	Pseudonym   string    `dynamodbav:"pseudonym"`
	Emails      []string  `dynamodbav:"emails,omitempty"` // removed when the erasure finishes
	RequestedBy string    `dynamodbav:"requestedBy"`
	Reason      string    `dynamodbav:"reason,omitempty"` // an admin's reference to the request received
	Status      string    `dynamodbav:"status"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
	UpdatedAt   time.Time `dynamodbav:"updatedAt"`
	// The current pass: Pass counts passes (a resume after a hold or a failure is a new pass),
	// Areas is fixed at the pass's first run, Area indexes it, Cursor is that area's cursor.
	Pass     int      `dynamodbav:"pass"`
	Areas    []string `dynamodbav:"areas,omitempty"`
	Area     int      `dynamodbav:"area"`
	Cursor   string   `dynamodbav:"cursor,omitempty"`
	Step     int      `dynamodbav:"step"`
	Changed  int      `dynamodbav:"changed"` // records changed or deleted, over every pass
	Holds    []Hold   `dynamodbav:"holds,omitempty"`
	Attempts int      `dynamodbav:"attempts"`
	Error    string   `dynamodbav:"error,omitempty"`
	// FinishedAt is when the last pass ended (done, held or failed).
	FinishedAt *time.Time `dynamodbav:"finishedAt,omitempty"`
	ExpiresAt  int64      `dynamodbav:"expiresAt,omitempty"` // TTL, set when done
	Version    int64      `dynamodbav:"version"`
}

// Finished reports an erasure whose pass has ended.
func (e Erasure) Finished() bool {
	return e.Status == ErasureDone || e.Status == ErasureHeld || e.Status == ErasureFailed
}

// Subject is the person the erasure is about.
func (e Erasure) Subject() ErasureSubject {
	return ErasureSubject{UserID: e.UserID, Emails: e.Emails, Pseudonym: e.Pseudonym, RequestID: e.ID}
}

// ErasureView is the request as the API shows it (docs/openapi.yaml ErasureView). The user id is
// shown to admins only (the list); the person sees their own request.
type ErasureView struct {
	ErasureID   string     `json:"erasureId"`
	Status      string     `json:"status"`
	Pseudonym   string     `json:"pseudonym"`
	RequestedBy string     `json:"requestedBy"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	FinishedAt  *time.Time `json:"finishedAt,omitempty"`
	Changed     int        `json:"changed"`
	Holds       []Hold     `json:"holds"`
}

func erasureView(e Erasure) ErasureView {
	holds := e.Holds
	if holds == nil {
		holds = []Hold{}
	}
	return ErasureView{ErasureID: e.ID, Status: e.Status, Pseudonym: e.Pseudonym, RequestedBy: e.RequestedBy,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, FinishedAt: e.FinishedAt, Changed: e.Changed, Holds: holds}
}

// EraseMessage is the payload on the erasures queue: which erasure to run (or go on running).
type EraseMessage struct {
	UserID    string `json:"userId"`
	ErasureID string `json:"erasureId"`
	Pass      int    `json:"pass"`
	Step      int    `json:"step"`
}

// MessageErase is the message type on manifest.ErasuresQueue.
const MessageErase = "personal-erasure.run"

func (m EraseMessage) dedupeID() string {
	return "personal-erasure#" + m.ErasureID + "#" + strconv.Itoa(m.Pass) + "#" + strconv.Itoa(m.Step)
}
