// Package logging sets up structured JSON logs (log/slog) and carries a request-scoped logger in the
// context. Log only ids and codes: never secrets, tokens, card data, e-mail addresses or e-mail
// bodies. As a safety net every logger made here scrubs what slips through (error strings from
// Stripe, SES or SMTP that quote an address, say): e-mail addresses, bearer tokens and JWTs, Stripe
// secrets and card numbers are replaced by a marker in the message and in every attribute
// (docs/decisions/0079).
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
)

type ctxKey struct{}

// New returns a JSON logger that tags every line with the function name and redacts personal data
// and secrets (Redact) from the message and every attribute, errors and nested groups included.
func New(w io.Writer, function string) *slog.Logger {
	if w == nil {
		w = os.Stdout
	}
	level := slog.LevelInfo
	if os.Getenv("LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: replaceAttr})).With("function", function)
}

// With returns a context carrying l.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the context's logger, or slog.Default() behind the scrubber.
func From(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.New(Scrub(slog.Default().Handler()))
}
