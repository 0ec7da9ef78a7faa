// Package money formats amounts held as integer minor units (cents) with an ISO 4217 currency.
// There are no floats here: an amount is an int64 count of the currency's smallest unit, as Stripe
// sends it, and formatting splits it with integer division.
package money

import (
	"strconv"
	"strings"
)

// zeroDecimal lists the currencies Stripe treats as having no minor unit (an amount of 500 JPY is
// ¥500). threeDecimal lists those with three decimals.
var (
	zeroDecimal = map[string]bool{
		"BIF": true, "CLP": true, "DJF": true, "GNF": true, "JPY": true, "KMF": true, "KRW": true,
		"MGA": true, "PYG": true, "RWF": true, "UGX": true, "VND": true, "VUV": true, "XAF": true,
		"XOF": true, "XPF": true,
	}
	threeDecimal = map[string]bool{"BHD": true, "JOD": true, "KWD": true, "OMR": true, "TND": true}
)

// symbols are the prefixes used for common currencies; others are written "CHF 12.50".
var symbols = map[string]string{
	"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$",
	"INR": "₹", "KRW": "₩", "BRL": "R$", "MXN": "MX$",
}

// Exponent is the number of decimal places of the currency's minor unit (2 for USD, 0 for JPY).
func Exponent(currency string) int {
	c := strings.ToUpper(currency)
	switch {
	case zeroDecimal[c]:
		return 0
	case threeDecimal[c]:
		return 3
	}
	return 2
}

// Format renders amount (in the currency's minor unit) for people: Format(999, "usd") is "$9.99",
// Format(-123456, "eur") is "-€1,234.56", Format(500, "jpy") is "¥500", Format(1250, "chf") is
// "CHF 12.50".
func Format(amount int64, currency string) string {
	code := strings.ToUpper(strings.TrimSpace(currency))
	neg := amount < 0
	// Work in uint64 so that the most negative int64 has a magnitude too.
	mag := uint64(amount)
	if neg {
		mag = -mag
	}
	exp := Exponent(code)
	div := uint64(1)
	for i := 0; i < exp; i++ {
		div *= 10
	}
	num := group(strconv.FormatUint(mag/div, 10))
	if exp > 0 {
		frac := strconv.FormatUint(mag%div, 10)
		num += "." + strings.Repeat("0", exp-len(frac)) + frac
	}
	sign := ""
	if neg {
		sign = "-"
	}
	if sym, ok := symbols[code]; ok {
		return sign + sym + num
	}
	if code == "" {
		return sign + num
	}
	return sign + code + " " + num
}

// group inserts thousands separators into a string of digits.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
