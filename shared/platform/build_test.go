package platform_test

import (
	"errors"
	"testing"

	"github.com/liberation/monetization/shared/platform"
)

func TestBuild(t *testing.T) {
	rt := &platform.Runtime{}
	var seen *platform.Runtime
	wiring := func(r *platform.Runtime) (string, error) { seen = r; return "deps", nil }
	ctor := platform.Build(wiring, func(w string) (int, error) { return len(w), nil })
	if h, err := ctor(rt); err != nil || h != 4 || seen != rt {
		t.Fatalf("built %v %v from %p, want 4 from %p", h, err, seen, rt)
	}

	failed := errors.New("no table")
	called := false
	ctor = platform.Build(func(*platform.Runtime) (string, error) { return "", failed },
		func(string) (int, error) { called = true; return 1, nil })
	if h, err := ctor(rt); !errors.Is(err, failed) || h != 0 || called {
		t.Fatalf("a wiring failure is the constructor's: %v %v (wire called: %v)", h, err, called)
	}

	wireErr := errors.New("no signer")
	ctor = platform.Build(wiring, func(string) (int, error) { return 0, wireErr })
	if _, err := ctor(rt); !errors.Is(err, wireErr) {
		t.Fatalf("a wire failure is the constructor's: %v", err)
	}
}
