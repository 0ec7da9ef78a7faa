package blobtest

import (
	"testing"
)

// The fake meets the versioned store's contract (the same cases run on moto in s3blob).
func TestVersionedContract(t *testing.T) {
	v := New()
	Contract(t, v, "receipts/")
	// What the contract left: the sibling's current version only; the purged keys have nothing.
	if keys := v.Keys(); len(keys) != 1 || keys[0] != "receipts/u1/pay_1.pdf.old" {
		t.Fatalf("keys %v", keys)
	}
	if vs := v.Versions("receipts/u1/pay_1.pdf.old"); len(vs) != 1 || string(vs[0].Body) != "s2" {
		t.Fatalf("sibling versions %+v", vs)
	}
}
