package catalog

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Doc is one published course in the search snapshot. Short JSON names keep a 10,000-course
// snapshot small (docs/performance.md).
type Doc struct {
	ID             string   `json:"i"`
	Title          string   `json:"t"`
	Subtitle       string   `json:"s,omitempty"`
	InstructorName string   `json:"n"`
	PriceCents     int64    `json:"p"`
	RatingSum      int64    `json:"rs,omitempty"`
	RatingCount    int64    `json:"rc,omitempty"`
	Enrollments    int64    `json:"e,omitempty"`
	Category       string   `json:"c"`
	Level          string   `json:"l"`
	Language       string   `json:"g"`
	PublishedAt    int64    `json:"at"` // unix seconds
	Tags           []string `json:"tg,omitempty"`
	Terms          string   `json:"d,omitempty"` // description terms
}

// Snapshot is every published course at one moment.
type Snapshot struct {
	BuiltAt time.Time `json:"builtAt"`
	Docs    []Doc     `json:"docs"`
}

// DocOf turns a published listing into its snapshot document.
func DocOf(l Listing) Doc {
	d := Doc{ID: l.CourseID, Title: l.Title, Subtitle: l.Subtitle, InstructorName: l.InstructorName,
		PriceCents: l.PriceCents, RatingSum: l.RatingSum, RatingCount: l.RatingCount, Enrollments: l.Enrollments,
		Category: l.Category, Level: l.Level, Language: l.Language, Tags: l.Tags, Terms: l.Terms}
	if l.PublishedAt != nil {
		d.PublishedAt = l.PublishedAt.Unix()
	}
	return d
}

// NewSnapshot builds a snapshot of the published listings, in course-id order (so equal catalogs
// give equal bytes and the same hash).
func NewSnapshot(listings []Listing, builtAt time.Time) Snapshot {
	s := Snapshot{BuiltAt: builtAt.UTC()}
	for _, l := range listings {
		if l.Status == StatusPublished {
			s.Docs = append(s.Docs, DocOf(l))
		}
	}
	sort.Slice(s.Docs, func(i, j int) bool { return s.Docs[i].ID < s.Docs[j].ID })
	if s.Docs == nil {
		s.Docs = []Doc{}
	}
	return s
}

// Hash identifies the snapshot's content (not its build time): a rebuild that finds nothing new
// writes nothing.
func (s Snapshot) Hash() string {
	b, _ := json.Marshal(s.Docs)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Encode is the gzipped JSON of the snapshot (what is stored in S3).
func (s Snapshot) Encode() ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(s); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecodeSnapshot reads what Encode wrote (streaming: the JSON is never held whole in memory).
func DecodeSnapshot(b []byte) (Snapshot, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return Snapshot{}, fmt.Errorf("catalog snapshot: %w", err)
	}
	var s Snapshot
	if err := json.NewDecoder(zr).Decode(&s); err != nil {
		return Snapshot{}, fmt.Errorf("catalog snapshot: %w", err)
	}
	return s, nil
}
