package privacy

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/idempotency"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/mail"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/notify"
	"github.com/liberation/monetization/shared/queue"
)

// Builder is the export host's work: it runs the areas' exporters page by page, writing each page
// as a part object and a checkpoint on the export item, puts its own continuation back on the
// queue after PagesPerRun pages, and at the end zips the parts into one JSON document with the
// person's PDFs, links it for 24 h and e-mails the link.
type Builder struct {
	Repo     Repo
	Registry *Registry
	Blobs    blob.Store
	Mail     mail.Sender
	Idem     idempotency.Store
	Queue    queue.Sender
	Clock    clock.Clock
	From     string // the sender address
	// PageSize items per page; PagesPerRun pages per message (one run stays far inside the
	// function's timeout whatever the account's size).
	PageSize    int
	PagesPerRun int
}

// Defaults of a Builder: 4 pages of up to 500 items, 2,000 items a run — seconds, far inside the
// function's 120 s. Every area answers at least one page, so even a small export goes on in a
// second message: the continuation is the path every export takes, not only the large ones.
const (
	DefaultPageSize    = 500
	DefaultPagesPerRun = 4
)

// part is one page as stored under parts/.
type part struct {
	Area  string   `json:"area"`
	Items []Item   `json:"items"`
	Files []string `json:"files,omitempty"`
}

// Document is export.json, the machine-readable document in the zip (docs/privacy.md "Format").
type Document struct {
	Format      string                `json:"format"`
	ExportID    string                `json:"exportId"`
	UserID      string                `json:"userId"`
	GeneratedAt time.Time             `json:"generatedAt"`
	ItemCount   int                   `json:"itemCount"`
	Areas       map[string]AreaExport `json:"areas"`
	Files       []string              `json:"files"`
}

// AreaExport is one area's part of the document.
type AreaExport struct {
	Items []Item `json:"items"`
}

// DocumentFormat names the document's layout (and its version).
const DocumentFormat = "liberation.personal-data-export/v1"

// DocumentName is the document's name in the zip; the PDFs are under files/.
const DocumentName = "export.json"

// Handle is the queue handler of MessageBuild.
func (b *Builder) Handle(ctx context.Context, msg queue.Message) error {
	var m Message
	if err := json.Unmarshal(msg.Payload, &m); err != nil || m.UserID == "" || m.ExportID == "" {
		logging.From(ctx).Error("dropping an export message without its ids")
		return nil
	}
	return b.Run(ctx, m)
}

// Run does one run of the export named by m: up to PagesPerRun pages, then either the next message
// or the finished zip. A run that loses a race to another run of the same export (a duplicate
// delivery) stops quietly; a failed run is counted, and MaxAttempts in a row fail the export.
func (b *Builder) Run(ctx context.Context, m Message) error {
	e, err := b.Repo.Get(ctx, m.UserID, m.ExportID)
	if apperr.Is(err, apperr.NotFound) {
		logging.From(ctx).Warn("dropping a message of an unknown export", "exportId", m.ExportID)
		return nil
	}
	if err != nil {
		return err
	}
	if e.Finished() {
		return nil
	}
	err = b.run(ctx, e)
	if err == nil || IsLostRace(err) {
		return nil
	}
	return b.failed(ctx, m, err)
}

func (b *Builder) run(ctx context.Context, e Export) error {
	now := b.Clock.Now().UTC()
	if e.Status == StatusQueued {
		e.Status, e.Areas, e.UpdatedAt = StatusRunning, b.Registry.Areas(), now
		var err error
		if e, err = b.Repo.Save(ctx, e); err != nil {
			return err
		}
	}
	subj := Subject{UserID: e.UserID, Email: e.Email}
	for pages := 0; e.Area < len(e.Areas); pages++ {
		if pages == b.pagesPerRun() {
			next := Message{UserID: e.UserID, ExportID: e.ID, Step: e.Step}
			return b.Queue.Send(ctx, manifest.ExportsQueue, MessageBuild, next.dedupeID(), next)
		}
		area := e.Areas[e.Area]
		var page Page
		if exp, ok := b.Registry.Exporter(area); ok {
			var err error
			if page, err = exp(ctx, subj, e.Cursor, b.pageSize()); err != nil {
				return fmt.Errorf("%s: %w", area, err)
			}
		} // an area without an exporter any more (a deploy between runs) has nothing to say
		if len(page.Items) > 0 || len(page.Files) > 0 {
			body, err := json.Marshal(part{Area: area, Items: page.Items, Files: page.Files})
			if err != nil {
				return apperr.Wrap(err, apperr.Internal, "encode a part")
			}
			if err := b.Blobs.Put(ctx, blob.Object{Key: e.PartKey(e.Part), ContentType: "application/json"}, body); err != nil {
				return err
			}
			e.Part++
		}
		e.Items += len(page.Items)
		if page.Next == "" {
			e.Area, e.Cursor = e.Area+1, ""
		} else {
			e.Cursor = page.Next
		}
		e.Step++
		e.Attempts, e.Error = 0, ""
		e.UpdatedAt = b.Clock.Now().UTC()
		var err error
		if e, err = b.Repo.Save(ctx, e); err != nil {
			return err
		}
	}
	return b.finish(ctx, e)
}

// finish zips the parts, links the zip, e-mails the link once and marks the export ready.
func (b *Builder) finish(ctx context.Context, e Export) error {
	now := b.Clock.Now().UTC()
	doc := Document{Format: DocumentFormat, ExportID: e.ID, UserID: e.UserID, GeneratedAt: now,
		Areas: map[string]AreaExport{}, Files: []string{}}
	for _, a := range e.Areas {
		doc.Areas[a] = AreaExport{Items: []Item{}}
	}
	var files []string
	seen := map[string]bool{}
	for n := 0; n < e.Part; n++ {
		raw, err := b.Blobs.Get(ctx, e.PartKey(n))
		if err != nil {
			return err
		}
		var p part
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			return apperr.Wrap(err, apperr.Internal, "decode part %d", n)
		}
		ax := doc.Areas[p.Area]
		ax.Items = append(ax.Items, p.Items...)
		doc.Areas[p.Area] = ax
		doc.ItemCount += len(p.Items)
		for _, f := range p.Files {
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, key := range files {
		body, err := b.Blobs.Get(ctx, key)
		if apperr.Is(err, apperr.NotFound) {
			continue // named by a record but never rendered
		}
		if err != nil {
			return err
		}
		name := "files/" + fileName(e.UserID, key)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: now})
		if err != nil {
			return apperr.Wrap(err, apperr.Internal, "zip")
		}
		if _, err := w.Write(body); err != nil {
			return apperr.Wrap(err, apperr.Internal, "zip")
		}
		doc.Files = append(doc.Files, name)
	}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "encode the document")
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: DocumentName, Method: zip.Deflate, Modified: now})
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "zip")
	}
	if _, err := w.Write(js); err != nil {
		return apperr.Wrap(err, apperr.Internal, "zip")
	}
	if err := zw.Close(); err != nil {
		return apperr.Wrap(err, apperr.Internal, "zip")
	}
	obj := ZipObject(e)
	if err := b.Blobs.Put(ctx, obj, buf.Bytes()); err != nil {
		return err
	}
	// The link's 24 h start when the zip is first stored, and that moment is checkpointed before
	// the e-mail goes: a finish retried after the e-mail (the last write failed) links to the
	// same end as the e-mail says.
	if e.ReadyAt == nil {
		e.ReadyAt = &now
		var err error
		if e, err = b.Repo.Save(ctx, e); err != nil {
			return err
		}
	}
	readyAt := *e.ReadyAt
	until := readyAt.Add(LinkTTL)
	if e.Email != "" {
		url, err := b.Blobs.PresignGet(ctx, obj, until.Sub(now))
		if err != nil {
			return err
		}
		if _, err := notify.SendOnce(ctx, b.Idem, b.Mail, "personal-export#"+e.ID, b.message(e, url, until)); err != nil {
			return err
		}
	}
	e.Status, e.ObjectKey, e.Files, e.ReadyAt, e.LinkExpiresAt = StatusReady, obj.Key, len(doc.Files), &readyAt, &until
	e.UpdatedAt, e.ExpiresAt = now, readyAt.Add(KeepRecord).Unix()
	if _, err := b.Repo.Finish(ctx, e); err != nil {
		return err
	}
	logging.From(ctx).Info("personal export ready", "exportId", e.ID, "items", e.Items, "files", e.Files, "bytes", buf.Len())
	return nil
}

// ZipObject is how the zip is stored and served.
func ZipObject(e Export) blob.Object {
	return blob.Object{Key: e.ZipKey(), ContentType: "application/zip",
		ContentDisposition: `attachment; filename="personal-data-` + e.ID + `.zip"`}
}

// fileName is a document's name in the zip: its key without receipts/<userId>/.
func fileName(userID, key string) string {
	if rest, ok := strings.CutPrefix(key, manifest.ReceiptsPrefix+userID+"/"); ok {
		return rest
	}
	return path.Base(key)
}

func (b *Builder) message(e Export, url string, until time.Time) mail.Message {
	text, html := notify.Render(notify.Brand{}, notify.Content{
		Subject: "Your data export is ready",
		Heading: "Your data export is ready",
		Paragraphs: []string{
			"The export you asked for holds your data from every part of Liberation: one JSON document and your receipts and credit notes.",
			"The link works until " + until.UTC().Format("2 January 2006, 15:04 UTC") + ". After that, ask for a new export from your account.",
		},
		Action: &notify.Link{Label: "Download your data", URL: url},
		Footer: "You get this e-mail because you asked for a copy of your data.",
	})
	return mail.Message{From: b.From, To: e.Email, Subject: "Your data export is ready", Text: text, HTML: html}
}

// failed counts a failed run on the export; MaxAttempts in a row fail it (and free the user to ask
// again). The error is returned while attempts remain, so the message is retried.
func (b *Builder) failed(ctx context.Context, m Message, cause error) error {
	log := logging.From(ctx)
	e, err := b.Repo.Get(ctx, m.UserID, m.ExportID)
	if err != nil || e.Finished() {
		return cause
	}
	e.Attempts++
	e.Error = string(apperr.CodeOf(cause))
	e.UpdatedAt = b.Clock.Now().UTC()
	if e.Attempts < MaxAttempts {
		if _, err := b.Repo.Save(ctx, e); err != nil && !IsLostRace(err) {
			log.Error("export attempt not recorded", "exportId", e.ID, "err", err.Error())
		}
		return cause
	}
	e.Status, e.ExpiresAt = StatusFailed, e.UpdatedAt.Add(KeepRecord).Unix()
	if _, err := b.Repo.Finish(ctx, e); err != nil && !IsLostRace(err) {
		return err
	}
	log.Error("personal export failed", "exportId", e.ID, "attempts", e.Attempts, "err", cause.Error())
	return nil
}

func (b *Builder) pageSize() int {
	if b.PageSize > 0 {
		return b.PageSize
	}
	return DefaultPageSize
}

func (b *Builder) pagesPerRun() int {
	if b.PagesPerRun > 0 {
		return b.PagesPerRun
	}
	return DefaultPagesPerRun
}
