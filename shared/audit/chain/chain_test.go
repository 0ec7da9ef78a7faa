package chain_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/liberation/monetization/shared/audit/chain"
)

// golden is a record whose hash is fixed below: a change to the encoding (field order, prefixes,
// the version) changes it, and every stored chain would stop verifying — so it must be a decision
// (a new Version), never an accident.
var golden = chain.Fields{Chain: "2026-12-07#3", Seq: 2, Prev: chain.Genesis("2026-12-07#3"),
	PK: "AUDIT#2026-12-07", SK: "2026-12-07T10:00:00Z#00aa", ID: "00aa", At: "2026-12-07T10:00:00Z",
	Actor: "user-1", Action: "refund.create", Target: "payment:pay_1", RequestID: "req-1",
	Details: map[string]string{"currency": "eur", "amount": "500"}}

const (
	goldenGenesis = "7fff3e2d9f406965b52873f7ffa696bd3fe529ffe53ff1b5f789b3b1cfdcb1b9"
	goldenHash    = "b42d9ff69182d56f0e455520451c147e1bcf45ac027857fb3ec07faa49419b93"
)

// lp is the documented field encoding, written out independently of Encode.
func lp(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func TestGoldenVector(t *testing.T) {
	if g := chain.Genesis("2026-12-07#3"); g != goldenGenesis {
		t.Fatalf("genesis = %s, want %s", g, goldenGenesis)
	}
	// The documented order, by hand: version, chain, seq, prev, PK, SK, id, at, actor, action,
	// target, requestId, the number of details, then details sorted by key.
	var want []byte
	for _, s := range []string{"liberation-audit-v1", "2026-12-07#3", "2", goldenGenesis, "AUDIT#2026-12-07",
		"2026-12-07T10:00:00Z#00aa", "00aa", "2026-12-07T10:00:00Z", "user-1", "refund.create", "payment:pay_1",
		"req-1", "2", "amount", "500", "currency", "eur"} {
		want = lp(want, s)
	}
	if got := chain.Encode(golden); hex.EncodeToString(got) != hex.EncodeToString(want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
	sum := sha256.Sum256(want)
	if hex.EncodeToString(sum[:]) != goldenHash {
		t.Fatalf("sha256 of the documented encoding = %x, want the golden %s", sum, goldenHash)
	}
	if h := chain.Hash(golden); h != goldenHash {
		t.Fatalf("Hash = %s, want %s", h, goldenHash)
	}
}

// Every hashed field changes the hash, and moving bytes from one field to the next does too (the
// length prefixes), so no edit keeps a record's hash.
func TestEveryFieldCounts(t *testing.T) {
	edits := map[string]func(*chain.Fields){
		"chain": func(f *chain.Fields) { f.Chain = "2026-12-07#4" }, "seq": func(f *chain.Fields) { f.Seq = 3 },
		"prev": func(f *chain.Fields) { f.Prev = goldenHash }, "pk": func(f *chain.Fields) { f.PK = "AUDIT#2026-12-08" },
		"sk": func(f *chain.Fields) { f.SK += "x" }, "id": func(f *chain.Fields) { f.ID = "00ab" },
		"at": func(f *chain.Fields) { f.At = "2026-12-07T10:00:01Z" }, "actor": func(f *chain.Fields) { f.Actor = "user-2" },
		"action": func(f *chain.Fields) { f.Action = "refund.cancel" }, "target": func(f *chain.Fields) { f.Target = "payment:pay_2" },
		"request":       func(f *chain.Fields) { f.RequestID = "req-2" },
		"detail value":  func(f *chain.Fields) { f.Details = map[string]string{"currency": "eur", "amount": "501"} },
		"detail added":  func(f *chain.Fields) { f.Details = map[string]string{"currency": "eur", "amount": "500", "x": ""} },
		"detail gone":   func(f *chain.Fields) { f.Details = map[string]string{"amount": "500"} },
		"shifted bytes": func(f *chain.Fields) { f.Actor, f.Action = "user-1r", "efund.create" },
	}
	for name, edit := range edits {
		f := golden
		edit(&f)
		if chain.Hash(f) == goldenHash {
			t.Errorf("%s: the edit kept the hash", name)
		}
	}
}

func TestFromItemReadsWhatTheStoreWrites(t *testing.T) {
	item := map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: golden.PK}, "SK": &types.AttributeValueMemberS{Value: golden.SK},
		"id": &types.AttributeValueMemberS{Value: golden.ID}, "at": &types.AttributeValueMemberS{Value: golden.At},
		"actor": &types.AttributeValueMemberS{Value: golden.Actor}, "action": &types.AttributeValueMemberS{Value: golden.Action},
		"target": &types.AttributeValueMemberS{Value: golden.Target}, "requestId": &types.AttributeValueMemberS{Value: golden.RequestID},
		"details": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"amount": &types.AttributeValueMemberS{Value: "500"}, "currency": &types.AttributeValueMemberS{Value: "eur"}}},
		"chain": &types.AttributeValueMemberS{Value: golden.Chain}, "seq": &types.AttributeValueMemberN{Value: "2"},
		"prev": &types.AttributeValueMemberS{Value: golden.Prev},
		// Not hashed: the index keys and the type are derived or fixed.
		"GSI1PK": &types.AttributeValueMemberS{Value: "ACTOR#user-1"}, "type": &types.AttributeValueMemberS{Value: "audit"},
	}
	h, err := chain.ItemHash(item)
	if err != nil || h != goldenHash {
		t.Fatalf("ItemHash = %s, %v; want %s", h, err, goldenHash)
	}
	item["seq"] = &types.AttributeValueMemberS{Value: "2"}
	if _, err := chain.ItemHash(item); err == nil {
		t.Fatal("a seq that is not a number was accepted")
	}
}
