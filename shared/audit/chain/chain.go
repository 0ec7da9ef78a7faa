// Package chain is the tamper evidence of the audit trail (docs/decisions/0085): the canonical
// encoding of an audit record, its SHA-256 hash over that encoding and the previous record's hash,
// and the genesis value each chain starts from. The store fills the chain fields in when it writes
// an audit record (shared/store/auditchain.go) and the verify job recomputes them
// (shared/audit/verify); both go through Fields and Hash here, so they cannot disagree.
//
// It depends on nothing of the project: the store imports it.
package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Version names the encoding; it is the first field hashed, so a later encoding cannot produce the
// same bytes as this one.
const Version = "liberation-audit-v1"

// Shards is the number of chains a day has. A record joins one at random, so concurrent writers
// rarely update the same head (each head takes one write at a time).
const Shards = 8

// Attribute names of the chain fields on an audit record.
const (
	AttrChain = "chain" // "<day>#<shard>"
	AttrSeq   = "seq"   // 1, 2, … within the chain
	AttrPrev  = "prev"  // the previous record's hash, or Genesis(chain) for seq 1
	AttrHash  = "hash"  // Hash(fields)
)

// Fields is what a record's hash covers, in the order it is encoded.
type Fields struct {
	Chain     string
	Seq       int64
	Prev      string
	PK, SK    string
	ID        string
	At        string // exactly as stored (RFC 3339 with nanoseconds)
	Actor     string
	Action    string
	Target    string
	RequestID string
	Details   map[string]string
}

// Encode is the canonical encoding: each field as a 4-byte big-endian length then its UTF-8 bytes,
// in the fixed order Version, Chain, Seq (decimal), Prev, PK, SK, ID, At, Actor, Action, Target,
// RequestID, the number of details (decimal), then each detail's key and value sorted by key.
// Length prefixes make it unambiguous: no two different records encode to the same bytes.
func Encode(f Fields) []byte {
	var b []byte
	put := func(s string) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	for _, s := range []string{Version, f.Chain, strconv.FormatInt(f.Seq, 10), f.Prev, f.PK, f.SK, f.ID, f.At,
		f.Actor, f.Action, f.Target, f.RequestID, strconv.Itoa(len(f.Details))} {
		put(s)
	}
	keys := make([]string, 0, len(f.Details))
	for k := range f.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		put(k)
		put(f.Details[k])
	}
	return b
}

// Hash is the hex SHA-256 of Encode(f). Prev is part of f, so each hash covers the whole chain
// before it.
func Hash(f Fields) string {
	sum := sha256.Sum256(Encode(f))
	return hex.EncodeToString(sum[:])
}

// Genesis is the prev of a chain's first record: a value fixed by the chain's name, so a first
// record cannot be moved to another chain or day.
func Genesis(chain string) string {
	sum := sha256.Sum256(Encode(Fields{Chain: chain, Action: "genesis"}))
	return hex.EncodeToString(sum[:])
}

// Name is the chain of a day ("2006-01-02") and shard.
func Name(day string, shard int) string { return fmt.Sprintf("%s#%d", day, shard) }

// FromItem reads the hashed fields of a stored (or about to be stored) audit item. Attributes that
// are absent read as empty; a present attribute of the wrong type is an error (it cannot have been
// written by the audit package).
func FromItem(item map[string]types.AttributeValue) (Fields, error) {
	var f Fields
	var err error
	str := func(name string) string {
		v, ok := item[name]
		if !ok || err != nil {
			return ""
		}
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			err = fmt.Errorf("audit item attribute %s is %T, not a string", name, v)
			return ""
		}
		return s.Value
	}
	f.Chain, f.Prev = str(AttrChain), str(AttrPrev)
	f.PK, f.SK, f.ID, f.At = str("PK"), str("SK"), str("id"), str("at")
	f.Actor, f.Action, f.Target, f.RequestID = str("actor"), str("action"), str("target"), str("requestId")
	if err != nil {
		return f, err
	}
	if v, ok := item[AttrSeq]; ok {
		n, isN := v.(*types.AttributeValueMemberN)
		if !isN {
			return f, fmt.Errorf("audit item attribute %s is %T, not a number", AttrSeq, v)
		}
		if f.Seq, err = strconv.ParseInt(n.Value, 10, 64); err != nil {
			return f, fmt.Errorf("audit item seq %q: %w", n.Value, err)
		}
	}
	if v, ok := item["details"]; ok {
		m, isM := v.(*types.AttributeValueMemberM)
		if !isM {
			return f, fmt.Errorf("audit item details is %T, not a map", v)
		}
		f.Details = make(map[string]string, len(m.Value))
		for k, dv := range m.Value {
			s, isS := dv.(*types.AttributeValueMemberS)
			if !isS {
				return f, fmt.Errorf("audit item detail %s is %T, not a string", k, dv)
			}
			f.Details[k] = s.Value
		}
	}
	return f, nil
}

// ItemHash is Hash of the fields of a stored item.
func ItemHash(item map[string]types.AttributeValue) (string, error) {
	f, err := FromItem(item)
	if err != nil {
		return "", err
	}
	return Hash(f), nil
}
