// Package zoned builds the licensing functions that validate time-zone names (create-license and
// update-license: a license's time zone sets its organisation's SLA business hours). It only adds
// the embedded zone database (time/tzdata, ~390 KB of binary) to exactly these two functions, so
// every other importer of shared/licensing — the other licensing functions, support, and billing's
// entitlement check — does not carry it (docs/decisions/0050).
package zoned

import (
	_ "time/tzdata" // zone names resolve the same whatever zone database the OS image ships

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/licensing"
	"github.com/liberation/monetization/shared/platform"
)

// NewCreateLicense builds POST /admin/licenses.
func NewCreateLicense(rt *platform.Runtime) (httpapi.Lambda, error) {
	return licensing.NewCreateLicense(rt)
}

// NewUpdateLicense builds PATCH /admin/licenses/{licenseId}.
func NewUpdateLicense(rt *platform.Runtime) (httpapi.Lambda, error) {
	return licensing.NewUpdateLicense(rt)
}
