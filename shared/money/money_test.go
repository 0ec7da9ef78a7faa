package money

import (
	"math"
	"testing"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name     string
		amount   int64
		currency string
		want     string
	}{
		{"Zero", 0, "usd", "$0.00"},
		{"Cents", 5, "usd", "$0.05"},
		{"ProPrice", 999, "usd", "$9.99"},
		{"EnterprisePrice", 9900, "USD", "$99.00"},
		{"Thousands", 123456789, "usd", "$1,234,567.89"},
		{"Negative", -999, "usd", "-$9.99"},
		{"NegativeThousands", -123456, "eur", "-€1,234.56"},
		{"GBP", 1050, "gbp", "£10.50"},
		{"JPYZeroDecimal", 500, "jpy", "¥500"},
		{"JPYThousands", 1234567, "jpy", "¥1,234,567"},
		{"JPYZero", 0, "jpy", "¥0"},
		{"UnknownSymbol", 1250, "chf", "CHF 12.50"},
		{"ThreeDecimal", 1234, "kwd", "KWD 1.234"},
		{"ZeroDecimalNoSymbol", -300, "clp", "-CLP 300"},
		{"NoCurrency", 100, "", "1.00"},
		{"MinInt64", math.MinInt64, "usd", "-$92,233,720,368,547,758.08"},
		{"MaxInt64", math.MaxInt64, "usd", "$92,233,720,368,547,758.07"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(tt.amount, tt.currency); got != tt.want {
				t.Fatalf("Format(%d, %q) = %q, want %q", tt.amount, tt.currency, got, tt.want)
			}
		})
	}
}

func TestExponent(t *testing.T) {
	for cur, want := range map[string]int{"usd": 2, "JPY": 0, "krw": 0, "bhd": 3, "eur": 2} {
		if got := Exponent(cur); got != want {
			t.Errorf("Exponent(%q) = %d, want %d", cur, got, want)
		}
	}
}
