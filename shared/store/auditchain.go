package store

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit/chain"
	"github.com/liberation/monetization/shared/manifest"
)

// The audit hash chains (docs/decisions/0085) are filled in here, so that no area changes: an audit
// record (a Put of an item of type "audit" under an AUDIT# partition) written through Transact or
// Put gets its chain, seq, prev and hash just before the write, and the transaction gets one more
// item at its END — the update of the chain's head, conditioned on the seq read — so the callers'
// item indexes (which they read failures by) are unchanged. A transaction cancelled only because a
// head moved (another writer extended the same chain) is re-read and resent; any other outcome
// reaches the caller as it did before the chains.

// AuditChainAttempts bounds the resends after a lost head race.
const AuditChainAttempts = 8

// auditShard picks the shard (chain) of a day a transaction's records join. Random, so concurrent
// writers rarely meet on one head; a test may fix it to force races.
var auditShard = func() int { return rand.IntN(chain.Shards) }

// AuditHead is a chain's head item.
type AuditHead struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	Type   string `dynamodbav:"type"`
	Chain  string `dynamodbav:"chain"`
	Seq    int64  `dynamodbav:"seq"`
	Hash   string `dynamodbav:"hash"`
	LastID string `dynamodbav:"lastId"`
}

// auditDay returns the day of an audit record's put ("" if the item is not an audit record).
func auditDay(it types.TransactWriteItem) string {
	if it.Put == nil {
		return ""
	}
	t, ok := it.Put.Item["type"].(*types.AttributeValueMemberS)
	if !ok || t.Value != "audit" {
		return ""
	}
	pk, ok := it.Put.Item[manifest.AttrPK].(*types.AttributeValueMemberS)
	if !ok || !strings.HasPrefix(pk.Value, "AUDIT#") {
		return ""
	}
	return strings.TrimPrefix(pk.Value, "AUDIT#")
}

func hasAudit(items []types.TransactWriteItem) bool {
	for _, it := range items {
		if auditDay(it) != "" {
			return true
		}
	}
	return false
}

// ReadAuditHead reads a chain's head consistently; a chain not started yet is seq 0 at its genesis.
func (s *Store) ReadAuditHead(ctx context.Context, day string, shard int) (AuditHead, error) {
	k := AuditHeadKey(day, shard)
	name := chain.Name(day, shard)
	var h AuditHead
	err := s.getConsistent(ctx, k, &h)
	if apperr.Is(err, apperr.NotFound) {
		return AuditHead{PK: k.PK, SK: k.SK, Type: "audit-head", Chain: name, Hash: chain.Genesis(name)}, nil
	}
	return h, err
}

// chained returns a copy of items whose audit records carry their chain fields, followed by the
// head updates (one per day the records fall on).
func (s *Store) chained(ctx context.Context, items []types.TransactWriteItem) ([]types.TransactWriteItem, error) {
	out := make([]types.TransactWriteItem, len(items), len(items)+1)
	copy(out, items)
	type head struct {
		AuditHead
		readSeq int64
		shard   int
	}
	heads := map[string]*head{}
	var days []string
	for i, it := range items {
		day := auditDay(it)
		if day == "" {
			continue
		}
		h, ok := heads[day]
		if !ok {
			shard := auditShard()
			cur, err := s.ReadAuditHead(ctx, day, shard)
			if err != nil {
				return nil, err
			}
			h = &head{AuditHead: cur, readSeq: cur.Seq, shard: shard}
			heads[day] = h
			days = append(days, day)
		}
		put := *it.Put
		put.Item = maps.Clone(it.Put.Item)
		h.Seq++
		put.Item[chain.AttrChain] = S(h.Chain)
		put.Item[chain.AttrSeq] = N(h.Seq)
		put.Item[chain.AttrPrev] = S(h.Hash)
		hash, err := chain.ItemHash(put.Item)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Internal, "audit record")
		}
		put.Item[chain.AttrHash] = S(hash)
		h.Hash = hash
		if id, ok := put.Item["id"].(*types.AttributeValueMemberS); ok {
			h.LastID = id.Value
		}
		out[i] = types.TransactWriteItem{Put: &put}
	}
	for _, day := range days {
		h := heads[day]
		up := &types.Update{
			TableName:        &s.Table,
			Key:              AuditHeadKey(day, h.shard).Item(),
			UpdateExpression: aws.String("SET #type = :type, #chain = :chain, #seq = :seq, #hash = :hash, #last = :last"),
			ExpressionAttributeNames: map[string]string{"#type": "type", "#chain": chain.AttrChain,
				"#seq": chain.AttrSeq, "#hash": chain.AttrHash, "#last": "lastId"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":type": S("audit-head"), ":chain": S(h.Chain),
				":seq": N(h.Seq), ":hash": S(h.Hash), ":last": S(h.LastID)},
		}
		if h.readSeq == 0 {
			up.ConditionExpression = aws.String("attribute_not_exists(PK)")
		} else {
			up.ConditionExpression = aws.String("#seq = :read")
			up.ExpressionAttributeValues[":read"] = N(h.readSeq)
		}
		out = append(out, types.TransactWriteItem{Update: up})
	}
	return out, nil
}

// transactChained sends items with their audit chains, resending after a lost head race. An SDK
// error it returns has the head items' cancellation reasons cut off, so mapping it (finish) gives
// the caller what the transaction without heads would have; its own errors are apperr already.
func (s *Store) transactChained(ctx context.Context, items []types.TransactWriteItem) error {
	for attempt := 0; ; attempt++ {
		full, err := s.chained(ctx, items)
		if err != nil {
			return err
		}
		_, err = s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: full})
		if err == nil {
			return nil
		}
		if !onlyHeadsFailed(err, len(items)) {
			return withoutHeads(err, len(items))
		}
		if attempt == AuditChainAttempts-1 {
			// A lost race on an item the caller never named: reported as a concurrent transaction
			// (IsTransactionConflict), which the areas' retry loops already retry, not as a failed
			// condition of one of their items (which some read as "already done").
			return apperr.Wrap(&types.TransactionConflictException{Message: aws.String("audit chain head busy")},
				apperr.Conflict, "the audit trail is busy; retry")
		}
		if werr := Backoff(ctx, attempt); werr != nil {
			return apperr.Wrap(werr, apperr.Unavailable, "audit write interrupted")
		}
	}
}

// onlyHeadsFailed reports a cancellation whose every failed item is a head (index ≥ n) that another
// writer moved (its condition failed, or another transaction held it).
func onlyHeadsFailed(err error, n int) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	headFailed := false
	for i, r := range tce.CancellationReasons {
		switch code := aws.ToString(r.Code); {
		case code == "" || code == "None":
		case i >= n && (code == "ConditionalCheckFailed" || code == "TransactionConflict"):
			headFailed = true
		default:
			return false
		}
	}
	return headFailed
}

// withoutHeads drops the head items' cancellation reasons from a cancellation, so the caller's
// failed indexes and error kind are those of its own items.
func withoutHeads(err error, n int) error {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || len(tce.CancellationReasons) <= n {
		return err
	}
	cut := *tce
	cut.CancellationReasons = tce.CancellationReasons[:n]
	return &cut
}

// putChained is Put of an audit record: the record and its head in one transaction. A failed
// condition of the record itself is the same Conflict a single PutItem's gives.
func (s *Store) putChained(ctx context.Context, in *dynamodb.PutItemInput) error {
	err := s.transactChained(ctx, []types.TransactWriteItem{{Put: &types.Put{TableName: in.TableName, Item: in.Item,
		ConditionExpression: in.ConditionExpression, ExpressionAttributeNames: in.ExpressionAttributeNames,
		ExpressionAttributeValues: in.ExpressionAttributeValues}}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return mapWriteErr(&types.ConditionalCheckFailedException{Message: aws.String("audit record exists")})
	}
	return finish(err)
}

// finish maps an SDK error of transactChained as every write's; its own errors pass unchanged.
func finish(err error) error {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	return mapWriteErr(err)
}

// AuditDayItems reads every audit record of a day ("2006-01-02") as stored, attribute by attribute
// (the verify job hashes exactly what is in the table). Consistent, paged to the end.
func (s *Store) AuditDayItems(ctx context.Context, day string) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{TableName: &s.Table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": S(AuditDayPK(day))}}
	var out []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.DB, in)
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "query failed")
		}
		out = append(out, res.Items...)
	}
	return out, nil
}

// AuditHeads reads the heads of a day's chains (consistent; only chains that have a record).
func (s *Store) AuditHeads(ctx context.Context, day string) ([]AuditHead, error) {
	return QueryAll[AuditHead](ctx, s, &dynamodb.QueryInput{ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": S(AuditHeadKey(day, 0).PK)}})
}
