package journal

// The journal's DynamoDB items and every SDK input of the package (docs/data-model.md "Journal").

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/store"
)

// Repo reads and writes the journal in the single table.
type Repo struct{ S *store.Store }

// entryItem is the entry as stored: PK JRNL#<id> / ENTRY, on GSI1 by effective day.
type entryItem struct {
	PK       string     `dynamodbav:"PK"`
	SK       string     `dynamodbav:"SK"`
	GSI1PK   string     `dynamodbav:"GSI1PK"`
	GSI1SK   string     `dynamodbav:"GSI1SK"`
	Type     string     `dynamodbav:"type"`
	ID       string     `dynamodbav:"id"`
	Kind     string     `dynamodbav:"kind"`
	Area     string     `dynamodbav:"area"`
	Source   string     `dynamodbav:"source"`
	Date     string     `dynamodbav:"date"` // store.JournalTime
	Currency string     `dynamodbav:"currency"`
	Memo     string     `dynamodbav:"memo,omitempty"`
	Lines    []lineItem `dynamodbav:"lines"`
	Digest   string     `dynamodbav:"digest"`
}

type lineItem struct {
	Account string `dynamodbav:"account"`
	Debit   int64  `dynamodbav:"debit"`
	Credit  int64  `dynamodbav:"credit"`
	Party   string `dynamodbav:"party,omitempty"`
	Memo    string `dynamodbav:"memo,omitempty"`
}

// postingItem is one line on its account's month partition (self-contained: an account's history
// and an export line need nothing else).
type postingItem struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Type     string `dynamodbav:"type"`
	EntryID  string `dynamodbav:"entryId"`
	Line     int    `dynamodbav:"line"`
	Account  string `dynamodbav:"account"`
	Debit    int64  `dynamodbav:"debit"`
	Credit   int64  `dynamodbav:"credit"`
	Currency string `dynamodbav:"currency"`
	Date     string `dynamodbav:"date"`
	Kind     string `dynamodbav:"kind"`
	Area     string `dynamodbav:"area"`
	Source   string `dynamodbav:"source"`
	Party    string `dynamodbav:"party,omitempty"`
	Memo     string `dynamodbav:"memo,omitempty"`
}

// balanceItem is one shard's totals of an account in a currency on a day. dr/cr are every line's;
// the *Internal and *Transfer totals are the part of them in entries that stay inside one account
// group, or that move transfers_connected (the statement's payable movements).
type balanceItem struct {
	Day        string `dynamodbav:"day"`
	Currency   string `dynamodbav:"currency"`
	Account    string `dynamodbav:"account"`
	Debits     int64  `dynamodbav:"dr"`
	Credits    int64  `dynamodbav:"cr"`
	Lines      int64  `dynamodbav:"n"`
	DrInternal int64  `dynamodbav:"drInternal"`
	CrInternal int64  `dynamodbav:"crInternal"`
	DrTransfer int64  `dynamodbav:"drTransfer"`
	CrTransfer int64  `dynamodbav:"crTransfer"`
}

// Items returns what posting e adds to a transaction, after validating it:
//
//  1. the entry item, Put with attribute_not_exists(PK) — always first, so that a caller who
//     appended these items at index i recognises "already posted" from the cancelled transaction
//     by store.FailedItems(err) containing i (AlreadyPosted does exactly that);
//  2. one posting per line (unconditional Puts: they exist exactly when the entry does);
//  3. one balance update per distinct account (ADD on the entry's shard of that account's day):
//     DynamoDB refuses two operations on one item in a transaction, so lines of one account are
//     summed into one update.
//
// ItemCount(e) items in all (at most 1 + 2 × MaxLines = 41); the caller's own items and these
// stay within the 100 of one transaction.
func Items(e Entry) ([]types.TransactWriteItem, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	at := e.Date.UTC()
	items := make([]types.TransactWriteItem, 0, ItemCount(e))

	ek := store.JournalEntryKey(e.ID)
	g1pk, g1sk := store.JournalDayGSI1(at, e.ID)
	ei := entryItem{PK: ek.PK, SK: ek.SK, GSI1PK: g1pk, GSI1SK: g1sk, Type: "journal-entry",
		ID: e.ID, Kind: e.Kind, Area: e.Area, Source: e.Source, Date: store.JournalTime(at),
		Currency: e.Currency, Memo: e.Memo, Digest: e.digest()}
	for _, l := range e.Lines {
		ei.Lines = append(ei.Lines, lineItem{Account: string(l.Account), Debit: l.Debit, Credit: l.Credit, Party: l.Party, Memo: l.Memo})
	}
	it, err := store.PutNewItem(ei)
	if err != nil {
		return nil, err
	}
	items = append(items, it)

	for i, l := range e.Lines {
		k := store.JournalPostingKey(string(l.Account), at, e.ID, i)
		it, err := store.PutItem(postingItem{PK: k.PK, SK: k.SK, Type: "journal-posting", EntryID: e.ID, Line: i,
			Account: string(l.Account), Debit: l.Debit, Credit: l.Credit, Currency: e.Currency,
			Date: store.JournalTime(at), Kind: e.Kind, Area: e.Area, Source: e.Source, Party: l.Party, Memo: e.lineMemo(i)})
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}

	internal, transfer := classify(e)
	shard := store.JournalShard(e.ID)
	for _, acct := range e.accounts() {
		var dr, cr, n int64
		for _, l := range e.Lines {
			if l.Account == acct {
				dr, cr, n = dr+l.Debit, cr+l.Credit, n+1
			}
		}
		items = append(items, balanceUpdate(store.JournalBalanceKey(shard, at, e.Currency, string(acct)),
			at, e.Currency, acct, dr, cr, n, internal, transfer))
	}
	return items, nil
}

// classify says whether every line of e is in one account group (a move inside it, e.g. a
// release from pending to available) and whether e moves transfers_connected (a payout or its
// reversal).
func classify(e Entry) (internal, transfer bool) {
	group := byID[e.Lines[0].Account].Group
	internal = group != ""
	for _, l := range e.Lines {
		if byID[l.Account].Group != group {
			internal = false
		}
		if l.Account == TransfersConnected {
			transfer = true
		}
	}
	return internal, transfer
}

func balanceUpdate(k store.Key, at time.Time, currency string, acct AccountID, dr, cr, n int64, internal, transfer bool) types.TransactWriteItem {
	expr := "SET #t = :t, #d = :d, #c = :c, #a = :a ADD dr :dr, cr :cr, n :n"
	names := map[string]string{"#t": "type", "#d": "day", "#c": "currency", "#a": "account"}
	vals := map[string]types.AttributeValue{
		":t": store.S("journal-balance"), ":d": store.S(store.JournalDay(at)), ":c": store.S(currency),
		":a": store.S(string(acct)), ":dr": store.N(dr), ":cr": store.N(cr), ":n": store.N(n)}
	if internal {
		expr += ", drInternal :dr, crInternal :cr"
	}
	if transfer {
		expr += ", drTransfer :dr, crTransfer :cr"
	}
	return types.TransactWriteItem{Update: &types.Update{Key: k.Item(), UpdateExpression: aws.String(expr),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals}}
}

// AlreadyPosted reports whether err is a cancelled transaction in which the entry item, appended
// at index entryIndex, failed its condition: the entry was posted before. (Other items of the
// caller may have failed too; the caller decides what that means for its own write.)
func AlreadyPosted(err error, entryIndex int) bool {
	return slices.Contains(store.FailedItems(err), entryIndex)
}

// Post writes e in a transaction of its own, for a caller with nothing else to write. Posting an
// entry that is already there with the same content is a no-op (nil); with other content under the
// same id it is an apperr.Conflict. A transaction that lost a race for a balance item to another
// (TransactionConflict) is tried again.
func (r Repo) Post(ctx context.Context, e Entry) error {
	items, err := Items(e)
	if err != nil {
		return err
	}
	err = store.Retry(ctx, "post journal entry", store.MaxConflictAttempts, store.IsTransactionConflict, func() error {
		return r.S.Transact(ctx, items)
	})
	if err == nil || !AlreadyPosted(err, 0) {
		return err
	}
	var stored entryItem
	if gErr := r.S.GetConsistent(ctx, store.JournalEntryKey(e.ID), &stored); gErr != nil {
		return gErr
	}
	if stored.Digest != e.digest() {
		return apperr.New(apperr.Conflict, "journal entry %q was posted before with other content", e.ID)
	}
	return nil
}

// Get reads one entry (apperr.NotFound when absent).
func (r Repo) Get(ctx context.Context, entryID string) (Entry, error) {
	var it entryItem
	if err := r.S.GetConsistent(ctx, store.JournalEntryKey(entryID), &it); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return Entry{}, apperr.New(apperr.NotFound, "journal entry %q not found", entryID)
		}
		return Entry{}, err
	}
	return it.entry()
}

func (it entryItem) entry() (Entry, error) {
	at, err := time.Parse(time.RFC3339Nano, it.Date)
	if err != nil {
		return Entry{}, apperr.Wrap(err, apperr.Internal, "journal entry %q: stored date", it.ID)
	}
	e := Entry{ID: it.ID, Kind: it.Kind, Area: it.Area, Source: it.Source, Date: at.UTC(), Currency: it.Currency, Memo: it.Memo}
	for _, l := range it.Lines {
		e.Lines = append(e.Lines, Line{Account: AccountID(l.Account), Debit: l.Debit, Credit: l.Credit, Party: l.Party, Memo: l.Memo})
	}
	return e, nil
}

func (it postingItem) posting() (Posting, error) {
	at, err := time.Parse(time.RFC3339Nano, it.Date)
	if err != nil {
		return Posting{}, apperr.Wrap(err, apperr.Internal, "journal posting %q: stored date", it.EntryID)
	}
	return Posting{EntryID: it.EntryID, Line: it.Line, Date: at.UTC(), Account: AccountID(it.Account),
		Debit: it.Debit, Credit: it.Credit, Currency: it.Currency, Kind: it.Kind, Area: it.Area,
		Source: it.Source, Party: it.Party, Memo: it.Memo}, nil
}

// Range limits of the paged reads (a wider range is a 400 on a route).
const (
	MaxAccountRange = 366 * 24 * time.Hour // AccountEntries: at most 13 month partitions
	MaxEntriesRange = 62 * 24 * time.Hour  // Entries: at most 63 day partitions
	MaxPageLimit    = 1000
)

// AccountEntries lists an account's postings effective in [from, to), oldest first, a page of at
// most limit at a time; cursor is "" for the first page, and the answer's cursor is "" after the
// last. The cursor is signed and bound to the account and the range.
func (r Repo) AccountEntries(ctx context.Context, account AccountID, from, to time.Time, cursor string, limit int32) ([]Posting, string, error) {
	if _, err := Lookup(account); err != nil {
		return nil, "", err
	}
	if err := checkRange(from, to, MaxAccountRange, limit); err != nil {
		return nil, "", err
	}
	var parts []string
	for m := monthStart(from); m.Before(to); m = m.AddDate(0, 1, 0) {
		parts = append(parts, store.JournalPostingPK(string(account), m))
	}
	lo, hi := bounds(from, to)
	scope := "journal-account#" + string(account) + "#" + store.JournalTime(from) + "#" + store.JournalTime(to)
	items, next, err := spanPage[postingItem](ctx, r.S, scope, span{pkAttr: manifest.AttrPK, skAttr: manifest.AttrSK, parts: parts, lo: lo, hi: hi}, cursor, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]Posting, 0, len(items))
	for _, it := range items {
		p, err := it.posting()
		if err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	return out, next, nil
}

// Entries lists the entries effective in [from, to), in time order, a page at a time (cursor as
// AccountEntries). It reads GSI1, which is eventually consistent: an entry posted a moment ago
// may be missing from a page read at once (statements and exports read closed periods).
func (r Repo) Entries(ctx context.Context, from, to time.Time, cursor string, limit int32) ([]Entry, string, error) {
	if err := checkRange(from, to, MaxEntriesRange, limit); err != nil {
		return nil, "", err
	}
	var parts []string
	for d := dayStart(from); d.Before(to); d = d.AddDate(0, 0, 1) {
		parts = append(parts, store.JournalDayPK(d))
	}
	lo, hi := bounds(from, to)
	scope := "journal-entries#" + store.JournalTime(from) + "#" + store.JournalTime(to)
	items, next, err := spanPage[entryItem](ctx, r.S, scope, span{index: manifest.GSI1.Name, pkAttr: manifest.GSI1.PK, skAttr: manifest.GSI1.SK, parts: parts, lo: lo, hi: hi}, cursor, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]Entry, 0, len(items))
	for _, it := range items {
		e, err := it.entry()
		if err != nil {
			return nil, "", err
		}
		out = append(out, e)
	}
	return out, next, nil
}

// EachEntry calls fn for every entry effective in [from, to), in time order (pages of 500).
func (r Repo) EachEntry(ctx context.Context, from, to time.Time, fn func(Entry) error) error {
	cursor := ""
	for {
		page, next, err := r.Entries(ctx, from, to, cursor, 500)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

func checkRange(from, to time.Time, maxRange time.Duration, limit int32) error {
	switch {
	case from.IsZero() || to.IsZero() || !from.Before(to):
		return apperr.New(apperr.Invalid, "the range needs from before to")
	case from.Before(minDate) || to.After(maxDate):
		return apperr.New(apperr.Invalid, "the range is out of the journal's dates")
	case to.Sub(from) > maxRange:
		return apperr.New(apperr.Invalid, "the range is longer than %d days", int(maxRange/(24*time.Hour)))
	case limit < 1 || limit > MaxPageLimit:
		return apperr.New(apperr.Invalid, "limit must be 1..%d", MaxPageLimit)
	}
	return nil
}

// bounds are the sort-key bounds of [from, to): the last nanosecond before to, followed by "#~",
// sorts after every key of that instant ('~' is above every character of an entry id).
func bounds(from, to time.Time) (string, string) {
	return store.JournalTime(from), store.JournalTime(to.Add(-time.Nanosecond)) + "#~"
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// span is a range read over an ordered list of partitions (an account's months, a range's days),
// each read with the same sort-key bounds.
type span struct {
	index          string // "" for the table
	pkAttr, skAttr string
	parts          []string
	lo, hi         string
}

// spanPage reads up to limit items of sp from the position cursor names. The cursor is the store's
// signed cursor over the last key read; when a page ends exactly at a partition's end it names the
// next partition alone (no sort key), which the next page starts from the beginning.
func spanPage[T any](ctx context.Context, s *store.Store, scope string, sp span, cursor string, limit int32) ([]T, string, error) {
	start, err := s.Cursor.Decode(ctx, scope, cursor)
	if err != nil {
		return nil, "", err
	}
	i := 0
	if start != nil {
		pk, _ := start[sp.pkAttr].(*types.AttributeValueMemberS)
		if pk == nil || !slices.Contains(sp.parts, pk.Value) {
			return nil, "", apperr.New(apperr.Invalid, "cursor is invalid")
		}
		i = slices.Index(sp.parts, pk.Value)
		if _, ok := start[manifest.AttrSK]; !ok {
			start = nil // a partition boundary: begin partition i
		}
	}
	out := make([]T, 0, limit)
	for i < len(sp.parts) {
		in := &dynamodb.QueryInput{
			TableName:                &s.Table,
			KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
			ExpressionAttributeNames: map[string]string{"#pk": sp.pkAttr, "#sk": sp.skAttr},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": store.S(sp.parts[i]), ":lo": store.S(sp.lo), ":hi": store.S(sp.hi)},
			Limit:             aws.Int32(limit - int32(len(out))),
			ExclusiveStartKey: start,
		}
		if sp.index != "" {
			in.IndexName = aws.String(sp.index)
		} else {
			in.ConsistentRead = aws.Bool(true)
		}
		res, err := s.DB.Query(ctx, in)
		if err != nil {
			return nil, "", apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		var page []T
		if err := decodeAll(res.Items, &page); err != nil {
			return nil, "", err
		}
		out = append(out, page...)
		start = res.LastEvaluatedKey
		if len(start) == 0 {
			start = nil
			i++
		}
		if int32(len(out)) < limit {
			continue
		}
		switch {
		case start != nil:
			next, err := s.Cursor.Encode(ctx, scope, start)
			return out, next, err
		case i < len(sp.parts):
			next, err := s.Cursor.Encode(ctx, scope, map[string]types.AttributeValue{sp.pkAttr: store.S(sp.parts[i])})
			return out, next, err
		}
		return out, "", nil
	}
	return out, "", nil
}

// readBalances reads every shard's daily balance items of the days up to and including through
// (consistent Queries, one per shard; an item's day sorts first in its sort key).
func (r Repo) readBalances(ctx context.Context, through time.Time) ([]balanceItem, error) {
	next := dayStart(through).AddDate(0, 0, 1)
	var out []balanceItem
	for shard := 0; shard < store.JournalShards; shard++ {
		items, err := store.QueryAll[balanceItem](ctx, r.S, &dynamodb.QueryInput{
			KeyConditionExpression:    aws.String("PK = :pk AND SK < :next"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.JournalBalancePK(shard)), ":next": store.S(store.JournalDay(next))},
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}

func decodeAll[T any](items []map[string]types.AttributeValue, out *[]T) error {
	if err := attributevalue.UnmarshalListOfMaps(items, out); err != nil {
		return apperr.Wrap(err, apperr.Internal, "decode journal items")
	}
	return nil
}
