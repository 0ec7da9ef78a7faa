package restoredrill

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Every attribute type survives the export file's DynamoDB JSON and comes back equal, nested ones
// included; the line has the export-to-S3 shape {"Item": {...}}.
func TestExportLineRoundTrip(t *testing.T) {
	item := map[string]types.AttributeValue{
		"PK":   &types.AttributeValueMemberS{Value: "INSTR#i1"},
		"n":    &types.AttributeValueMemberN{Value: "-4999"},
		"b":    &types.AttributeValueMemberB{Value: []byte{0, 1, 255}},
		"ok":   &types.AttributeValueMemberBOOL{Value: true},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"deep": &types.AttributeValueMemberN{Value: "7"}}}}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "v"}}},
	}
	line, err := encodeItem(item)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(line), `{"Item":{`) || !strings.Contains(string(line), `"n":{"N":"-4999"}`) {
		t.Errorf("line %s: not DynamoDB JSON", line)
	}
	back, err := decodeItem(line)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, item) {
		t.Errorf("round trip:\n got %#v\nwant %#v", back, item)
	}
}

// A damaged export line is an error naming the problem, never a silently dropped attribute.
func TestExportLineRejectsDamage(t *testing.T) {
	for line, want := range map[string]string{
		`{"Item":{"a":{"X":"1"}}}`:         "unknown attribute type",
		`{"Item":{"a":{"S":"1","N":"1"}}}`: "exactly one",
		`{"Other":{}}`:                     "without an Item",
		`{"Item":{"a":{"B":"!!"}}}`:        "illegal base64",
		`not json`:                         "invalid character",
	} {
		if _, err := decodeItem([]byte(line)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", line, err, want)
		}
	}
}

// EntityType names an item by its type attribute, else by its partition's prefix.
func TestEntityType(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	for want, it := range map[string]map[string]types.AttributeValue{
		"sale":       {"PK": s("INSTR#i1"), "type": s("sale")},
		"(METRICS#)": {"PK": s("METRICS#current")},
		"(CONFIG)":   {"PK": s("CONFIG")},
		"(no PK)":    {},
	} {
		if got := EntityType(it); got != want {
			t.Errorf("EntityType(%v) = %q, want %q", it, got, want)
		}
	}
}
