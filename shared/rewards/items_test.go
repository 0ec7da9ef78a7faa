package rewards

import (
	"reflect"
	"testing"
	"time"
)

// fill sets every exported field of *v to a distinct non-zero value.
func fill(t *testing.T, v any) {
	t.Helper()
	s := reflect.ValueOf(v).Elem()
	for i := 0; i < s.NumField(); i++ {
		f, name := s.Field(i), s.Type().Field(i).Name
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString(name)
		case reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Pointer:
			f.Set(reflect.ValueOf(shipTo))
		case reflect.Struct:
			f.Set(reflect.ValueOf(monday.Add(time.Duration(i) * time.Minute)))
		default:
			t.Fatalf("fill %s: %s", name, f.Kind())
		}
	}
}

// What is stored reads back as it was: no field forgotten on the way to DynamoDB or back.
func TestItemsRoundTrip(t *testing.T) {
	var a Account
	fill(t, &a)
	if got := a.item().account(); got != a {
		t.Errorf("account: %+v\n != %+v", got, a)
	}
	var e Entry
	fill(t, &e)
	if got := e.item().entry(); got != e {
		t.Errorf("entry: %+v\n != %+v", got, e)
	}
	var r Redemption
	fill(t, &r)
	r.Status = Approved
	it := r.item()
	if got := redemptions([]redemptionItem{it}); len(got) != 1 || !reflect.DeepEqual(got[0], r) {
		t.Errorf("redemption: %+v\n != %+v", got, r)
	}
	if it.GSI1PK == "" || it.GSI2PK == "" || it.PK == "" {
		t.Errorf("redemption keys %+v", it)
	}
}
