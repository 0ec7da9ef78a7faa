package logging

import (
	"errors"
	"io"
	"log/slog"
	"testing"
)

// A typical request line (ids, codes, numbers: nothing to redact) through a plain JSON logger and
// through New's scrubbing one, and a line whose error quotes an address. Numbers in
// docs/performance.md.

func benchLine(b *testing.B, l *slog.Logger, err error) {
	l = l.With("requestId", "b4c1f3a2-5d6e-4f70-8a9b-0c1d2e3f4a5b", "route", "POST /courses/{id}/purchase", "userId", "01HZY3K6Q2W4M8T0V5X7C9B1N3")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		l.Error("request failed", "status", 502, "ms", 41, "code", "unavailable", "err", err)
	}
}

var (
	errClean = errors.New("unavailable: creating the checkout session failed: stripe ambiguous failure (status 0, no_answer): context deadline exceeded")
	errMail  = errors.New("unavailable: send e-mail: 550 5.1.1 <alice.smith@example.com>: Recipient address rejected: User unknown in local recipient table")
)

func BenchmarkLogPlainJSON(b *testing.B) {
	benchLine(b, slog.New(slog.NewJSONHandler(io.Discard, nil)).With("function", "f"), errClean)
}

func BenchmarkLogScrubbedClean(b *testing.B) { benchLine(b, New(io.Discard, "f"), errClean) }

func BenchmarkLogScrubbedWithEmail(b *testing.B) { benchLine(b, New(io.Discard, "f"), errMail) }

func BenchmarkRedactClean(b *testing.B) {
	s := errClean.Error()
	b.ReportAllocs()
	for b.Loop() {
		_ = Redact(s)
	}
}

func BenchmarkRedactEmailAndCard(b *testing.B) {
	s := errMail.Error() + " card 4242 4242 4242 4242"
	b.ReportAllocs()
	for b.Loop() {
		_ = Redact(s)
	}
}
