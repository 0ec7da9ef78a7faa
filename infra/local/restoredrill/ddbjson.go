package restoredrill

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The export file is what DynamoDB's export to S3 writes in its DYNAMODB_JSON format: one line per
// item, {"Item": {<attribute>: {"S": …} | {"N": "…"} | …}}. Writing the same shape keeps the
// drill's restore step the one the runbook's import uses (docs/runbooks/restore.md).

// exportLine is one line of the file.
type exportLine struct {
	Item map[string]json.RawMessage `json:"Item"`
}

// encodeItem writes an item as DynamoDB JSON.
func encodeItem(item map[string]types.AttributeValue) ([]byte, error) {
	m := make(map[string]any, len(item))
	for k, v := range item {
		j, err := encodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		m[k] = j
	}
	return json.Marshal(map[string]any{"Item": m})
}

func encodeValue(v types.AttributeValue) (map[string]any, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}, nil
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}, nil
	case *types.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(v.Value)}, nil
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}, nil
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}, nil
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}, nil
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}, nil
	case *types.AttributeValueMemberBS:
		bs := make([]string, len(v.Value))
		for i, b := range v.Value {
			bs[i] = base64.StdEncoding.EncodeToString(b)
		}
		return map[string]any{"BS": bs}, nil
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			j, err := encodeValue(e)
			if err != nil {
				return nil, err
			}
			l[i] = j
		}
		return map[string]any{"L": l}, nil
	case *types.AttributeValueMemberM:
		m := make(map[string]any, len(v.Value))
		for k, e := range v.Value {
			j, err := encodeValue(e)
			if err != nil {
				return nil, err
			}
			m[k] = j
		}
		return map[string]any{"M": m}, nil
	}
	return nil, fmt.Errorf("attribute value of type %T", v)
}

// decodeItem reads one line of the file back into an item.
func decodeItem(line []byte) (map[string]types.AttributeValue, error) {
	var l exportLine
	if err := json.Unmarshal(line, &l); err != nil {
		return nil, err
	}
	if len(l.Item) == 0 {
		return nil, fmt.Errorf("a line without an Item")
	}
	item := make(map[string]types.AttributeValue, len(l.Item))
	for k, raw := range l.Item {
		v, err := decodeValue(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		item[k] = v
	}
	return item, nil
}

func decodeValue(raw json.RawMessage) (types.AttributeValue, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if len(m) != 1 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("a value with types %v, want exactly one", keys)
	}
	for typ, body := range m {
		switch typ {
		case "S":
			var s string
			err := json.Unmarshal(body, &s)
			return &types.AttributeValueMemberS{Value: s}, err
		case "N":
			var s string
			err := json.Unmarshal(body, &s)
			return &types.AttributeValueMemberN{Value: s}, err
		case "B":
			var s string
			if err := json.Unmarshal(body, &s); err != nil {
				return nil, err
			}
			b, err := base64.StdEncoding.DecodeString(s)
			return &types.AttributeValueMemberB{Value: b}, err
		case "BOOL":
			var b bool
			err := json.Unmarshal(body, &b)
			return &types.AttributeValueMemberBOOL{Value: b}, err
		case "NULL":
			return &types.AttributeValueMemberNULL{Value: true}, nil
		case "SS", "NS":
			var ss []string
			if err := json.Unmarshal(body, &ss); err != nil {
				return nil, err
			}
			if typ == "SS" {
				return &types.AttributeValueMemberSS{Value: ss}, nil
			}
			return &types.AttributeValueMemberNS{Value: ss}, nil
		case "BS":
			var ss []string
			if err := json.Unmarshal(body, &ss); err != nil {
				return nil, err
			}
			bs := make([][]byte, len(ss))
			for i, s := range ss {
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return nil, err
				}
				bs[i] = b
			}
			return &types.AttributeValueMemberBS{Value: bs}, nil
		case "L":
			var raws []json.RawMessage
			if err := json.Unmarshal(body, &raws); err != nil {
				return nil, err
			}
			l := make([]types.AttributeValue, len(raws))
			for i, r := range raws {
				v, err := decodeValue(r)
				if err != nil {
					return nil, err
				}
				l[i] = v
			}
			return &types.AttributeValueMemberL{Value: l}, nil
		case "M":
			var raws map[string]json.RawMessage
			if err := json.Unmarshal(body, &raws); err != nil {
				return nil, err
			}
			mm := make(map[string]types.AttributeValue, len(raws))
			for k, r := range raws {
				v, err := decodeValue(r)
				if err != nil {
					return nil, err
				}
				mm[k] = v
			}
			return &types.AttributeValueMemberM{Value: mm}, nil
		default:
			return nil, fmt.Errorf("unknown attribute type %q", typ)
		}
	}
	return nil, nil // unreachable: len(m) == 1
}
