package billing

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/platform"
)

// DefaultPastDueGraceDays is the grace a past_due subscription gets past its paid-through date when
// PAST_DUE_GRACE_DAYS is not set (docs/decisions/0035).
const DefaultPastDueGraceDays = 3

// maxPastDueGraceDays bounds the setting: Stripe's Smart Retries give up within about two weeks.
const maxPastDueGraceDays = 30

// Rules are the settings billing's decisions depend on.
type Rules struct {
	Prices Prices
	// Grace is how long past its paid-through date a past_due subscription keeps its tier.
	Grace time.Duration
}

// Settings is billing's configuration, read once per process.
type Settings struct {
	Rules
	// AppURL and AppOrigins: where Checkout and the portal may send a user back (platform.Config).
	AppURL     string
	AppOrigins []string
}

// settingsOf reads billing's configuration from the runtime. A malformed PAST_DUE_GRACE_DAYS stops
// the function at start with a message naming the variable (never a silent default).
func settingsOf(rt *platform.Runtime) (Settings, error) {
	grace, err := parseGraceDays(rt.Getenv(manifest.EnvPastDueGraceDays))
	if err != nil {
		return Settings{}, err
	}
	return Settings{
		Rules:  Rules{Prices: Prices{Pro: rt.Config.PricePro, Enterprise: rt.Config.PriceEnterprise}, Grace: grace},
		AppURL: rt.Config.AppURL, AppOrigins: rt.Config.AppOrigins,
	}, nil
}

// parseGraceDays reads PAST_DUE_GRACE_DAYS: empty is the default, otherwise whole days 0…30.
func parseGraceDays(raw string) (time.Duration, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return DefaultPastDueGraceDays * 24 * time.Hour, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > maxPastDueGraceDays {
		return 0, fmt.Errorf("%s must be a whole number of days from 0 to %d, got %q",
			manifest.EnvPastDueGraceDays, maxPastDueGraceDays, raw)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}
