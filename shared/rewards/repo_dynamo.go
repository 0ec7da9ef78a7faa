package rewards

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/books/journal"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/rewards/leaderboard"
	"github.com/liberation/monetization/shared/rewards/tokenmetrics"
	"github.com/liberation/monetization/shared/store"
)

// dynamoRepo is every port of the area on the single table: the only file of the package that
// builds DynamoDB inputs. Keys come from shared/store/keys.go, indexes by name (manifest.GSI1,
// manifest.GSI2); docs/data-model.md ("Rewards") lists the access patterns.
type dynamoRepo struct{ s *store.Store }

var _ Repo = (*dynamoRepo)(nil)

// NewRepo is the DynamoDB repository.
func NewRepo(s *store.Store) Repo { return &dynamoRepo{s: s} }

// ----- ledger -----

func (r *dynamoRepo) Account(ctx context.Context, userID string) (Account, error) {
	var it accountItem
	err := r.s.GetConsistent(ctx, store.TokenAccountKey(userID), &it)
	if apperr.Is(err, apperr.NotFound) {
		return Account{UserID: userID}, nil
	}
	if err != nil {
		return Account{}, err
	}
	return it.account(), nil
}

func (r *dynamoRepo) Commit(ctx context.Context, m Movement) error {
	items, err := movementItems(m)
	if err != nil {
		return err
	}
	base := len(items)
	var entries []journal.Entry
	for _, w := range m.Writes {
		x, err := writeItem(w, m.At)
		if err != nil {
			return err
		}
		items = append(items, x)
		if w.Redemption != nil {
			entries = append(entries, w.Redemption.Entries...)
		}
	}
	// The writes' journal entries follow every write, so the writes keep their indexes.
	err = journal.Repo{S: r.s}.TransactPosting(ctx, "a rewards write", items, entries)
	var failed []int
	for _, i := range store.FailedItems(err) {
		if i >= base && i < base+len(m.Writes) {
			failed = append(failed, i-base)
		}
	}
	if len(failed) > 0 {
		return apperr.Wrap(&WriteFailed{Writes: failed}, apperr.Conflict, "the record changed or already exists")
	}
	return err
}

// movementItems is the account's part of a movement: the account itself (over the version read),
// the entry, and what follows from the account (scores, histograms, metrics).
func movementItems(m Movement) ([]types.TransactWriteItem, error) {
	a, n, e := m.From, m.To, m.Entry
	acct, err := store.Marshal(n.item())
	if err != nil {
		return nil, err
	}
	items := []types.TransactWriteItem{store.PutOver(acct, a.Version)}
	if e.Seq != 0 {
		entry, err := store.Marshal(e.item())
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{Item: entry,
			ConditionExpression: aws.String("attribute_not_exists(PK)")}})
	}
	for _, b := range boardChanges(a, n, m.At) {
		item, err := store.Marshal(b.Score)
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{Item: item}})
		if len(b.Buckets) > 0 {
			items = store.Append(items, store.AddCounters(store.LeaderboardHistogramKey(GlobalScope, b.Score.Board, b.Shard), b.Buckets))
		}
	}
	return store.Append(items, metricItems(e, leaderboard.ShardOf(n.UserID))...), nil
}

// metricItems counts an entry in the day's counters and the gauges, in the user's shard.
func metricItems(e Entry, shard int) []*types.TransactWriteItem {
	day, gauges := metricDeltas(e)
	if day == nil {
		return nil
	}
	return []*types.TransactWriteItem{
		store.AddCounters(store.TokenMetricsDayKey(Day(e.At), shard), day),
		store.AddCounters(store.TokenMetricsCurrentKey(shard), gauges),
	}
}

// writeItem is a plan's write as a transaction item.
func writeItem(w Write, now time.Time) (types.TransactWriteItem, error) {
	switch {
	case w.Guard != nil:
		return guardItem(*w.Guard)
	case w.Cap != nil:
		return capItemWrite(*w.Cap), nil
	case w.Redemption != nil:
		return redemptionPut(*w.Redemption)
	case w.Audit != nil:
		return audit.Item(*w.Audit, now)
	}
	return types.TransactWriteItem{}, apperr.New(apperr.Internal, "an empty write")
}

func guardItem(g GuardWrite) (types.TransactWriteItem, error) {
	it, read := g.Item, g.Read
	it.Version = read.Version + 1
	item, err := store.Marshal(it)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	put := &types.Put{Item: item}
	switch {
	case !read.Exists:
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	case read.Version == 0:
		put.ConditionExpression = aws.String("attribute_exists(PK) AND attribute_not_exists(version)")
	default:
		put.ConditionExpression = aws.String("version = :v")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": store.N(read.Version)}
	}
	return types.TransactWriteItem{Put: put}, nil
}

func capItemWrite(c CapWrite) types.TransactWriteItem {
	expires, _ := time.Parse("2006-01-02", c.Day)
	upd := &types.Update{
		Key:                      store.TokenCapKey(c.UserID, c.Rule, c.Day).Item(),
		UpdateExpression:         aws.String("SET #t = :t, earned = :new, expiresAt = :exp"),
		ExpressionAttributeNames: map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": store.S("token-cap"), ":new": store.N(c.Earned),
			":exp": store.N(expires.Add(capKeep).Unix()),
		},
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}
	if c.Exists {
		upd.ConditionExpression = aws.String("earned = :old")
		upd.ExpressionAttributeValues[":old"] = store.N(c.Read)
	}
	return types.TransactWriteItem{Update: upd}
}

func redemptionPut(w RedemptionWrite) (types.TransactWriteItem, error) {
	item, err := store.Marshal(w.Redemption.item())
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return store.PutOver(item, w.Read), nil
}

// ----- earning guards -----

func (r *dynamoRepo) Guard(ctx context.Context, userID, rule, sourceID string) (earnItem, bool, error) {
	var it earnItem
	err := r.s.GetConsistent(ctx, store.TokenEarnKey(userID, rule, sourceID), &it)
	if apperr.Is(err, apperr.NotFound) {
		return earnItem{}, false, nil
	}
	return it, err == nil, err
}

func (r *dynamoRepo) Cap(ctx context.Context, userID, rule, day string) (int64, bool, error) {
	var c capItem
	err := r.s.GetConsistent(ctx, store.TokenCapKey(userID, rule, day), &c)
	if apperr.Is(err, apperr.NotFound) {
		return 0, false, nil
	}
	return c.Earned, err == nil, err
}

func (r *dynamoRepo) WriteGuard(ctx context.Context, w GuardWrite) error {
	x, err := guardItem(w)
	if err != nil {
		return err
	}
	return r.s.Transact(ctx, []types.TransactWriteItem{x})
}

func (r *dynamoRepo) DueEarnings(ctx context.Context, now time.Time, after *earnItem, limit int32) ([]earnItem, bool, error) {
	ix := manifest.GSI2
	in := &dynamodb.QueryInput{
		TableName:                &r.s.Table,
		IndexName:                aws.String(ix.Name),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk <= :now"),
		ExpressionAttributeNames: map[string]string{"#pk": ix.PK, "#sk": ix.SK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  store.S(store.TokenPendingPartition),
			":now": store.S(store.SortTime(now) + "~"),
		},
		Limit: aws.Int32(limit),
	}
	if after != nil {
		// The position after an item of the index is its index and table keys, whether or not it
		// is still on the index (a released earning leaves it).
		in.ExclusiveStartKey = map[string]types.AttributeValue{"PK": store.S(after.PK), "SK": store.S(after.SK),
			ix.PK: store.S(after.GSI2PK), ix.SK: store.S(after.GSI2SK)}
	}
	res, err := r.s.DB.Query(ctx, in)
	if err != nil {
		return nil, false, apperr.Wrap(err, apperr.Unavailable, "query pending earnings")
	}
	var due []earnItem
	if err := decodeAll(res.Items, &due); err != nil {
		return nil, false, err
	}
	return due, res.LastEvaluatedKey != nil, nil
}

// ----- boards -----

func (r *dynamoRepo) ShardPage(ctx context.Context, board string, shard int, limit int32, start Position) ([]leaderboard.Row, Position, error) {
	ix := manifest.GSI2
	res, err := r.s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &r.s.Table,
		IndexName:                 aws.String(ix.Name),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": ix.PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.LeaderboardShardPK(GlobalScope, board, shard))},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(limit),
		ExclusiveStartKey:         startKey(start),
	})
	if err != nil {
		return nil, nil, apperr.Wrap(err, apperr.Unavailable, "leaderboard read failed")
	}
	var items []scoreItem
	if err := decodeAll(res.Items, &items); err != nil {
		return nil, nil, err
	}
	var rows []leaderboard.Row
	for _, it := range items {
		rows = append(rows, leaderboard.Row{UserID: it.UserID, DisplayName: it.DisplayName, Score: it.Score,
			ReachedAt: it.ReachedAt, SortKey: it.GSI2SK})
	}
	return rows, position(res.LastEvaluatedKey), nil
}

func (r *dynamoRepo) CountAbove(ctx context.Context, board string, shard int, floor int64, limit int32, start Position) (int, Position, error) {
	ix := manifest.GSI2
	res, err := r.s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                &r.s.Table,
		IndexName:                aws.String(ix.Name),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk >= :floor"),
		ExpressionAttributeNames: map[string]string{"#pk": ix.PK, "#sk": ix.SK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":    store.S(store.LeaderboardShardPK(GlobalScope, board, shard)),
			":floor": store.S(leaderboard.ScoreFloor(floor)),
		},
		Select:            types.SelectCount,
		Limit:             aws.Int32(limit),
		ExclusiveStartKey: startKey(start),
	})
	if err != nil {
		return 0, nil, apperr.Wrap(err, apperr.Unavailable, "leaderboard read failed")
	}
	return int(res.Count), position(res.LastEvaluatedKey), nil
}

// position keeps a nil key nil (a nil map in a non-nil interface would read as "more").
func position(k map[string]types.AttributeValue) Position {
	if k == nil {
		return nil
	}
	return k
}

func startKey(p Position) map[string]types.AttributeValue {
	k, _ := p.(map[string]types.AttributeValue)
	return k
}

func (r *dynamoRepo) Histogram(ctx context.Context, board string) (leaderboard.Histogram, error) {
	k := store.LeaderboardHistogramKey(GlobalScope, board, 0)
	res, err := r.s.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &r.s.Table,
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(k.PK)},
	})
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "histogram read failed")
	}
	h := leaderboard.Histogram{}
	for _, item := range res.Items {
		for b := range leaderboard.Edges {
			if v, ok := item[leaderboard.BucketAttr(b)].(*types.AttributeValueMemberN); ok {
				n, _ := strconv.ParseInt(v.Value, 10, 64)
				h[b] += n
			}
		}
	}
	return h, nil
}

func (r *dynamoRepo) Scores(ctx context.Context, board string, userIDs []string) (map[string]scoreItem, error) {
	keys := make([]store.Key, len(userIDs))
	for i, u := range userIDs {
		keys[i] = store.LeaderboardScoreKey(u, board)
	}
	items, err := store.BatchGet[scoreItem](ctx, r.s, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]scoreItem, len(items))
	for _, it := range items {
		out[it.UserID] = it
	}
	return out, nil
}

// ----- redemptions and history -----

func (r *dynamoRepo) Redemption(ctx context.Context, userID, id string) (Redemption, error) {
	var it redemptionItem
	if err := r.s.GetConsistent(ctx, store.RedemptionKey(userID, id), &it); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return Redemption{}, apperr.New(apperr.NotFound, "no such redemption")
		}
		return Redemption{}, err
	}
	return it.redemption(), nil
}

func (r *dynamoRepo) RedemptionOwner(ctx context.Context, id string) (string, error) {
	g1, g1s := store.RedemptionByIDGSI1(id)
	it, err := store.QueryIndexOne[redemptionItem](ctx, r.s, manifest.GSI1, g1, g1s, "no such redemption")
	return it.UserID, err
}

func (r *dynamoRepo) SaveRedemption(ctx context.Context, w RedemptionWrite, au *audit.Entry) error {
	put, err := redemptionPut(w)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{put}
	if au != nil {
		rec, err := audit.Item(*au, w.Redemption.UpdatedAt)
		if err != nil {
			return err
		}
		items = append(items, rec)
	}
	return journal.Repo{S: r.s}.TransactPosting(ctx, "a rewards write", items, w.Entries)
}

func (r *dynamoRepo) UserRedemptions(ctx context.Context, userID string, limit int32, cursor string) ([]Redemption, string, error) {
	k := store.TokenAccountKey(userID)
	page, err := store.QueryPage[redemptionItem](ctx, r.s, "redemptions#"+userID, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(k.PK), ":p": store.S(store.RedemptionPrefix),
		},
		ScanIndexForward: aws.Bool(false),
	}, limit, cursor)
	return redemptions(page.Items), page.NextCursor, err
}

func (r *dynamoRepo) RedemptionsByStatus(ctx context.Context, status Status, limit int32, cursor string) ([]Redemption, string, error) {
	ix := manifest.GSI2
	page, err := store.QueryPage[redemptionItem](ctx, r.s, "redemptions-by-status#"+string(status), &dynamodb.QueryInput{
		IndexName:                 aws.String(ix.Name),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": ix.PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": store.S(store.RedemptionStatusPrefix + string(status))},
	}, limit, cursor)
	return redemptions(page.Items), page.NextCursor, err
}

func (r *dynamoRepo) Entries(ctx context.Context, userID string, limit int32, cursor string) ([]Entry, string, error) {
	k := store.TokenAccountKey(userID)
	page, err := store.QueryPage[entryItem](ctx, r.s, "tokens#"+userID, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(k.PK), ":p": store.S(store.TokenEntryPrefix),
		},
		ScanIndexForward: aws.Bool(false),
	}, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	out := make([]Entry, len(page.Items))
	for i, it := range page.Items {
		out[i] = it.entry()
	}
	return out, page.NextCursor, nil
}

// ----- friends and classes -----

func (r *dynamoRepo) Follow(ctx context.Context, me, id string, now time.Time) (time.Time, error) {
	var existing followItem
	err := r.s.GetConsistent(ctx, store.FollowKey(me, id), &existing)
	if err == nil {
		return existing.Since, nil
	}
	if !apperr.Is(err, apperr.NotFound) {
		return time.Time{}, err
	}
	k := store.FollowKey(me, id)
	item, err := store.Marshal(followItem{PK: k.PK, SK: k.SK, Type: "follow", UserID: me, FollowedID: id, Since: now})
	if err != nil {
		return time.Time{}, err
	}
	err = r.s.Transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Update: &types.Update{Key: store.FollowCountKey(me).Item(),
			UpdateExpression:          aws.String("SET #t = :t ADD following :one"),
			ConditionExpression:       aws.String("attribute_not_exists(following) OR following < :max"),
			ExpressionAttributeNames:  map[string]string{"#t": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": store.S("follow-count"), ":one": store.N(1), ":max": store.N(MaxFollowing)}}},
	})
	switch failed := store.FailedItems(err); {
	case len(failed) > 0 && failed[0] == 0:
		return now, nil // a concurrent follow won
	case len(failed) > 0:
		return time.Time{}, errFollowingFull
	}
	return now, err
}

func (r *dynamoRepo) Unfollow(ctx context.Context, me, id string) error {
	err := r.s.Transact(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{Key: store.FollowKey(me, id).Item(), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{Update: &types.Update{Key: store.FollowCountKey(me).Item(), UpdateExpression: aws.String("ADD following :minus"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":minus": store.N(-1)}}},
	})
	if store.IsConditionFailed(err) {
		return nil // not followed: nothing to undo
	}
	return err
}

func (r *dynamoRepo) Following(ctx context.Context, userID string) ([]followItem, error) {
	k := store.TokenAccountKey(userID)
	return store.QueryAll[followItem](ctx, r.s, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(k.PK), ":p": store.S(store.FollowPrefix),
		},
	})
}

func (r *dynamoRepo) CreateClass(ctx context.Context, c classItem) error {
	k, ck := store.ClassKey(c.ID), store.ClassCodeKey(c.JoinCode)
	c.PK, c.SK = k.PK, k.SK
	item, err := store.Marshal(c)
	if err != nil {
		return err
	}
	code, err := store.Marshal(classCodeItem{PK: ck.PK, SK: ck.SK, Type: "class-code", ClassID: c.ID})
	if err != nil {
		return err
	}
	return r.s.Transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{Item: code, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	})
}

func (r *dynamoRepo) Class(ctx context.Context, id string) (classItem, error) {
	var c classItem
	err := r.s.GetConsistent(ctx, store.ClassKey(id), &c)
	if apperr.Is(err, apperr.NotFound) {
		return c, apperr.New(apperr.NotFound, "no such class")
	}
	return c, err
}

func (r *dynamoRepo) Member(ctx context.Context, classID, userID string) (*memberItem, error) {
	var m memberItem
	err := r.s.GetConsistent(ctx, store.ClassMemberKey(classID, userID), &m)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func (r *dynamoRepo) Members(ctx context.Context, classID string) ([]memberItem, error) {
	k := store.ClassKey(classID)
	return store.QueryAll[memberItem](ctx, r.s, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": store.S(k.PK), ":p": store.S(store.ClassMemberPrefix),
		},
	})
}

func (r *dynamoRepo) ClassOfCode(ctx context.Context, code string) (string, error) {
	var c classCodeItem
	if err := r.s.GetConsistent(ctx, store.ClassCodeKey(code), &c); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return "", apperr.New(apperr.NotFound, "no class has this code")
		}
		return "", err
	}
	return c.ClassID, nil
}

func (r *dynamoRepo) Join(ctx context.Context, m memberItem) (bool, memberItem, error) {
	k := store.ClassMemberKey(m.ClassID, m.UserID)
	m.PK, m.SK, m.Type = k.PK, k.SK, "class-member"
	item, err := store.Marshal(m)
	if err != nil {
		return false, m, err
	}
	err = r.s.Transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Update: &types.Update{Key: store.ClassKey(m.ClassID).Item(), UpdateExpression: aws.String("ADD memberCount :one"),
			ConditionExpression:       aws.String("attribute_exists(PK) AND memberCount < :max"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": store.N(1), ":max": store.N(MaxClassMembers)}}},
	})
	switch failed := store.FailedItems(err); {
	case len(failed) > 0 && failed[0] == 0: // already a member
		if cur, err := r.Member(ctx, m.ClassID, m.UserID); err == nil && cur != nil {
			return false, *cur, nil
		}
		return false, m, nil
	case len(failed) > 0:
		return false, m, errClassFull
	case err != nil:
		return false, m, err
	}
	return true, m, nil
}

func (r *dynamoRepo) Leave(ctx context.Context, classID, userID string) (bool, error) {
	err := r.s.Transact(ctx, []types.TransactWriteItem{
		{Delete: &types.Delete{Key: store.ClassMemberKey(classID, userID).Item(), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{Update: &types.Update{Key: store.ClassKey(classID).Item(), UpdateExpression: aws.String("ADD memberCount :minus"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":minus": store.N(-1)}}},
	})
	if store.IsConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

func (r *dynamoRepo) DisplayNames(ctx context.Context, userIDs []string) (map[string]string, error) {
	keys := make([]store.Key, len(userIDs))
	for i, u := range userIDs {
		keys[i] = store.TokenAccountKey(u)
	}
	items, err := store.BatchGet[accountItem](ctx, r.s, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(items))
	for _, it := range items {
		out[it.UserID] = it.DisplayName
	}
	return out, nil
}

// ----- token metrics (tokenmetrics' repository: its file holds the queries) -----

func (r *dynamoRepo) DayCounters(ctx context.Context, from, to string) ([]tokenmetrics.Counters, error) {
	return tokenmetrics.NewSource(r.s).DayCounters(ctx, from, to)
}

func (r *dynamoRepo) Gauges(ctx context.Context) ([]tokenmetrics.Counters, error) {
	return tokenmetrics.NewSource(r.s).Gauges(ctx)
}

func decodeAll(items []map[string]types.AttributeValue, out any) error {
	if err := attributevalue.UnmarshalListOfMaps(items, out); err != nil {
		return apperr.Wrap(err, apperr.Internal, "decode items")
	}
	return nil
}
