//go:build integration

package e2e

import (
	"testing"

	"github.com/liberation/monetization/infra/local/localtest"
)

func TestMain(m *testing.M) { localtest.Main(m) }
