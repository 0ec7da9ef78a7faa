package books

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
)

func wireGetBooksTrialBalance(w wiring) (httpapi.Lambda, error) {
	return w.route(handleTrialBalance(w.Clock, w.Repo))
}

// handleTrialBalance serves GET /admin/books/trial-balance?date=yyyy-mm-dd: every account's
// totals per currency up to and including the day (default today, UTC; 2000-01-01 to tomorrow).
// Books that do not balance are answered all the same, with balanced false, and logged as an
// error: the figures are what the person who has to find out why needs (docs/books.md "Routes").
func handleTrialBalance(clk clock.Clock, tbs trialBalances) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		today := dayStart(clk.Now())
		asOf := today
		if s, ok := r.Event.QueryStringParameters["date"]; ok {
			d, err := parseDay("date", s, today.AddDate(0, 0, 1))
			if err != nil {
				return httpapi.Response{}, err
			}
			asOf = d
		}
		tb, err := tbs.TrialBalance(ctx, asOf)
		if errors.Is(err, journal.ErrUnbalanced) {
			logging.From(ctx).Error("trial balance does not balance", "asOf", tb.AsOf, "err", err.Error())
			err = nil
		}
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(trialBalanceView(tb)), nil
	}
}

func wireListBooksAccountEntries(w wiring) (httpapi.Lambda, error) {
	return w.route(handleAccountEntries(w.Clock, w.Repo))
}

// entriesLimits: ?limit= of an account's postings (the journal allows up to 1000 a page).
var entriesLimits = httpapi.Limits{Default: 100, Max: 500}

// handleAccountEntries serves GET /admin/books/accounts/{account}/entries?from=&to=&cursor=&limit=:
// the account's postings effective in [from, to) (days, UTC), oldest first. from defaults to the
// first of the current month, to to tomorrow (so today is in); from is at most tomorrow, to at
// most the day after (a range can end with tomorrow, the trial balance's last day), the range at
// most 366 days. The cursor is bound to the account and the range.
func handleAccountEntries(clk clock.Clock, postings accountPostings) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		account := journal.AccountID(r.PathParam("account"))
		if _, err := journal.Lookup(account); err != nil {
			return httpapi.Response{}, err // 404
		}
		today := dayStart(clk.Now())
		tomorrow := today.AddDate(0, 0, 1)
		from, to := monthStart(today), tomorrow
		q := r.Event.QueryStringParameters
		var err error
		if s, ok := q["from"]; ok {
			if from, err = parseDay("from", s, tomorrow); err != nil {
				return httpapi.Response{}, err
			}
		}
		if s, ok := q["to"]; ok {
			if to, err = parseDay("to", s, tomorrow.AddDate(0, 0, 1)); err != nil {
				return httpapi.Response{}, err
			}
		}
		switch {
		case !from.Before(to):
			return httpapi.Response{}, invalid("from", "must be before to (the range is [from, to))")
		case to.Sub(from) > journal.MaxAccountRange:
			return httpapi.Response{}, invalid("to", "must be at most %d days after from", int(journal.MaxAccountRange/(24*time.Hour)))
		}
		return httpapi.ListPage(ctx, r, "postings", entriesLimits,
			func(ctx context.Context, limit int32, cursor string) ([]journal.Posting, string, error) {
				return postings.AccountEntries(ctx, account, from, to, cursor, limit)
			}, postingView)
	}
}

func wireGetBooksStatement(w wiring) (httpapi.Lambda, error) {
	return w.route(handleStatement(w.Clock, w.Repo))
}

// handleStatement serves GET /admin/books/statement?month=yyyy-mm (default the current month,
// UTC): journal.Statement. A month not over yet is answered with closed false and a note; a month
// that has not begun is a 400.
func handleStatement(clk clock.Clock, sts statements) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		now := clk.Now().UTC()
		month := monthStart(now)
		if s, ok := r.Event.QueryStringParameters["month"]; ok {
			m, err := parseMonth("month", s, now)
			if err != nil {
				return httpapi.Response{}, err
			}
			month = m
		}
		st, err := sts.Statement(ctx, month, now)
		if err != nil {
			return httpapi.Response{}, err
		}
		return httpapi.OK(statementView(st)), nil
	}
}

func wireCreateBooksExport(w wiring) (httpapi.Lambda, error) {
	if w.Blobs == nil {
		return nil, fmt.Errorf("%s: no blob store (the manifest entry declares no Bucket)", w.rt.Fn.Name)
	}
	return w.route(handleExport(w.Clock, w.Repo, w.Blobs))
}

// ExportURLTTL is how long an export's download link works.
const ExportURLTTL = time.Hour

// ExportKey is where an export is stored: under books/exports/<month>/, named by the month and the
// time it was built, so a later export of a month still open never replaces one whose link was
// handed out.
func ExportKey(month time.Time, format string, built time.Time) string {
	m := month.UTC().Format("2006-01")
	return manifest.BooksPrefix + "exports/" + m + "/journal-" + m + "-" + built.UTC().Format("20060102T150405.000000000Z") + "." + ext(format)
}

func ext(format string) string {
	if format == FormatJSON {
		return "jsonl"
	}
	return "csv"
}

// handleExport serves POST /admin/books/exports {"month", "format"}: the month's postings (one
// line each, journal.WriteCSV or WriteJSON), re-balanced entry by entry before they are stored
// (an export that a general-ledger import would refuse is never handed out), stored under
// books/exports/ and linked for an hour. A month with nothing is a header-only CSV (an empty JSON
// Lines file), lines 0.
func handleExport(clk clock.Clock, months monthPostings, store exportStore) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (httpapi.Response, error) {
		var req exportRequest
		if err := r.Decode(&req); err != nil {
			return httpapi.Response{}, err
		}
		now := clk.Now().UTC()
		month, err := parseMonth("month", req.Month, now)
		if err != nil {
			return httpapi.Response{}, err
		}
		var write func(*bytes.Buffer, []journal.Posting) error
		contentType := ""
		switch req.Format {
		case FormatCSV:
			write = func(b *bytes.Buffer, ps []journal.Posting) error { return journal.WriteCSV(b, ps) }
			contentType = "text/csv; charset=utf-8"
		case FormatJSON:
			write = func(b *bytes.Buffer, ps []journal.Posting) error { return journal.WriteJSON(b, ps) }
			contentType = "application/jsonl; charset=utf-8"
		default:
			return httpapi.Response{}, invalid("format", "must be csv or json")
		}
		postings, err := months.MonthPostings(ctx, month)
		if err != nil {
			return httpapi.Response{}, err
		}
		if _, err := journal.CheckBalanced(postings); err != nil {
			return httpapi.Response{}, apperr.Wrap(err, apperr.Internal, "the export of %s does not balance", req.Month)
		}
		debits, credits := map[string]int64{}, map[string]int64{}
		for _, p := range postings {
			debits[p.Currency] += p.Debit
			credits[p.Currency] += p.Credit
		}
		var body bytes.Buffer
		if err := write(&body, postings); err != nil {
			return httpapi.Response{}, apperr.Wrap(err, apperr.Internal, "write the export")
		}
		key := ExportKey(month, req.Format, now)
		obj := blob.Object{Key: key, ContentType: contentType,
			ContentDisposition: `attachment; filename="journal-` + req.Month + "." + ext(req.Format) + `"`}
		if err := store.Put(ctx, obj, body.Bytes()); err != nil {
			return httpapi.Response{}, err
		}
		url, err := store.PresignGet(ctx, obj, ExportURLTTL)
		if err != nil {
			return httpapi.Response{}, err
		}
		logging.From(ctx).Info("books export", "month", req.Month, "format", req.Format, "key", key,
			"lines", strconv.Itoa(len(postings)))
		return httpapi.JSON(http.StatusCreated, ExportView{Month: req.Month, Format: req.Format,
			Closed: !now.Before(month.AddDate(0, 1, 0)), Key: key, URL: url, ExpiresAt: now.Add(ExportURLTTL),
			Lines: len(postings), Debits: debits, Credits: credits}), nil
	}
}
