//go:build integration

package browser

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// The console's display formats, written independently of the app (web/console/src/components/
// format.ts) so the browser tests catch a wrong format: money "$1,234.56" (en-US, the response's
// currency), counts "1,234", basis points and percents as a percent with two decimals "99.90%",
// null "—".

const nullText = "—"

// currencySymbols are the currencies the platform bills in (docs/openapi.yaml Currency), as
// Intl.NumberFormat('en-US') writes them.
var currencySymbols = map[string]string{"usd": "$", "eur": "€", "gbp": "£"}

// group writes the integer part of n with en-US thousands separators.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func formatMoney(minor int64, currency string) string {
	sym, ok := currencySymbols[strings.ToLower(currency)]
	if !ok {
		sym = strings.ToUpper(currency) + "\u00a0"
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%s%s.%02d", sign, sym, group(minor/100), minor%100)
}

func formatCount(n int64) string {
	if n < 0 {
		return "-" + group(-n)
	}
	return group(n)
}

// formatHundredths writes v/100 with two decimals and grouping: 9990 → "99.90".
func formatHundredths(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%s.%02d", sign, group(v/100), v%100)
}

func formatBasisPoints(bp int64) string { return formatHundredths(bp) + "%" }

// formatPercent: a percent already (SLA's metPercent, one decimal) → two decimals.
func formatPercent(p float64) string {
	return formatHundredths(int64(p*100+copysign(0.5, p))) + "%"
}

func copysign(v, sign float64) float64 {
	if sign < 0 {
		return -v
	}
	return v
}

// metricKind says how a metric path is shown, from its name: amounts end in Cents, rates in
// BasisPoints, percents in Percent; everything else is a count.
func metricKind(path string) string {
	last := path[strings.LastIndex(path, ".")+1:]
	switch {
	case strings.HasSuffix(last, "Cents"):
		return "money"
	case strings.HasSuffix(last, "BasisPoints"):
		return "bp"
	case strings.HasSuffix(last, "Percent"):
		return "percent"
	}
	return "count"
}

// formatMetric is the visible text of a metric tile for the JSON value v (nil for null).
func formatMetric(path string, v any, currency string) (string, error) {
	if v == nil {
		return nullText, nil
	}
	num, ok := v.(json.Number)
	if !ok {
		return "", fmt.Errorf("%s: %v is not a number", path, v)
	}
	switch metricKind(path) {
	case "percent":
		f, err := num.Float64()
		if err != nil {
			return "", err
		}
		return formatPercent(f), nil
	}
	n, err := num.Int64()
	if err != nil {
		return "", fmt.Errorf("%s: %v is not an integer", path, v)
	}
	switch metricKind(path) {
	case "money":
		return formatMoney(n, currency), nil
	case "bp":
		return formatBasisPoints(n), nil
	}
	return formatCount(n), nil
}

// lookup reads a dotted path from a JSON document decoded with UseNumber.
func lookup(doc any, path string) (any, bool) {
	cur := doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func TestFormats(t *testing.T) {
	for _, c := range []struct {
		path string
		v    any
		want string
	}{
		{"mrrCents", json.Number("123456"), "$1,234.56"},
		{"mrrCents", json.Number("5"), "$0.05"},
		{"marketplace.gmvCents", json.Number("100000000"), "$1,000,000.00"},
		{"payingCustomers", json.Number("1234"), "1,234"},
		{"tokens.issued", json.Number("999"), "999"},
		{"payments.successRateBasisPoints", json.Number("9990"), "99.90%"},
		{"churn.rateBasisPoints", json.Number("5"), "0.05%"},
		{"churn.rateBasisPoints", json.Number("10000"), "100.00%"},
		{"support.slaMetPercent", json.Number("94.7"), "94.70%"},
		{"support.slaMetPercent", json.Number("100"), "100.00%"},
		{"churn.rateBasisPoints", nil, "—"},
	} {
		got, err := formatMetric(c.path, c.v, "usd")
		if err != nil || got != c.want {
			t.Errorf("formatMetric(%s, %v) = %q, %v; want %q", c.path, c.v, got, err, c.want)
		}
	}
	if got := formatMoney(-250, "usd"); got != "-$2.50" {
		t.Errorf("negative money %q", got)
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(`{"a":{"b":7,"c":null}}`))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if v, ok := lookup(doc, "a.b"); !ok || v != json.Number("7") {
		t.Errorf("lookup a.b = %v, %v", v, ok)
	}
	if v, ok := lookup(doc, "a.c"); !ok || v != nil {
		t.Errorf("lookup a.c = %v, %v", v, ok)
	}
	if _, ok := lookup(doc, "a.x"); ok {
		t.Error("lookup of a missing path succeeded")
	}
}
