package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestStatusesAndPublicMessages(t *testing.T) {
	cause := errors.New("dynamodb: table xyz secret detail")
	tests := []struct {
		name       string
		err        error
		wantCode   Code
		wantStatus int
		wantMsg    string
	}{
		{"Invalid", New(Invalid, "tier is required"), Invalid, 400, "tier is required"},
		{"NotFound", New(NotFound, "payment not found"), NotFound, 404, "payment not found"},
		{"Unprocessable", New(Unprocessable, "too much"), Unprocessable, 422, "too much"},
		{"UnsupportedMediaType", New(UnsupportedMediaType, "content-type must be application/json"), UnsupportedMediaType, 415, "content-type must be application/json"},
		{"WrappedStillCoded", fmt.Errorf("ctx: %w", New(Conflict, "busy")), Conflict, 409, "busy"},
		{"HeadersTooLarge", New(HeadersTooLarge, "too long"), HeadersTooLarge, 431, "too long"},
		{"MethodNotAllowed", New(MethodNotAllowed, "use POST"), MethodNotAllowed, 405, "use POST"},
		{"NotImplemented", New(NotImplemented, "not yet"), NotImplemented, 501, "not yet"},
		{"InternalHidesMessage", Wrap(cause, Internal, "decode USER#1"), Internal, 500, "Internal error."},
		{"PlainErrorIsInternal", cause, Internal, 500, "Internal error."},
		{"UnavailableHidesCause", Wrap(cause, Unavailable, "stripe said no"), Unavailable, 503, "A dependency is unavailable; try again shortly."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CodeOf(tt.err); got != tt.wantCode {
				t.Errorf("code = %s, want %s", got, tt.wantCode)
			}
			if got := Status(CodeOf(tt.err)); got != tt.wantStatus {
				t.Errorf("status = %d, want %d", got, tt.wantStatus)
			}
			if got := PublicMessage(tt.err); got != tt.wantMsg {
				t.Errorf("message = %q, want %q", got, tt.wantMsg)
			}
		})
	}
	if !errors.Is(Wrap(cause, Internal, "x"), cause) {
		t.Error("Wrap must keep the cause for errors.Is")
	}
	if Status("made-up") != 500 {
		t.Error("unknown codes map to 500")
	}
}

func TestCodesAreDistinctPerStatus(t *testing.T) {
	seen := map[int]Code{}
	for _, c := range Codes() {
		st := Status(c)
		if prev, dup := seen[st]; dup {
			t.Errorf("%s and %s both map to %d", prev, c, st)
		}
		seen[st] = c
	}
	for _, c := range []Code{Invalid, UnsupportedMediaType, HeadersTooLarge, MethodNotAllowed, NotImplemented, Unavailable} {
		if _, ok := seen[Status(c)]; !ok {
			t.Errorf("Codes() misses %s", c)
		}
	}
}
