package licensing

import (
	"context"

	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/platform"
)

// Constructors of licensing's functions: functions/<name>/main.go (generated) and the local gateway
// call New<Name>(runtime). Each builds only what its function uses.

func route(rt *platform.Runtime, h func(*Deps) httpapi.Handler) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, h(d)), nil
}

// NewCreateLicense builds POST /admin/licenses (Idempotency-Key honoured).
func NewCreateLicense(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err == nil {
		d, err = withSigner(rt, d)
	}
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, httpapi.Idempotent(d.Store, rt.Fn.Name, handleCreateLicense(d))), nil
}

// NewListLicenses builds GET /admin/licenses.
func NewListLicenses(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, handleListLicenses)
}

// NewUpdateLicense builds PATCH /admin/licenses/{licenseId}.
func NewUpdateLicense(rt *platform.Runtime) (httpapi.Lambda, error) {
	d, err := NewDeps(rt)
	if err == nil {
		d, err = withSigner(rt, d)
	}
	if err != nil {
		return nil, err
	}
	return httpapi.Route(rt.Fn, handleUpdateLicense(d)), nil
}

// NewGetLicensePublicKey builds GET /licenses/public-key.
func NewGetLicensePublicKey(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, handlePublicKey)
}

// NewActivateLicense builds POST /licenses/activate.
func NewActivateLicense(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, handleActivate)
}

// NewGetLicense builds GET /licenses/{licenseId}.
func NewGetLicense(rt *platform.Runtime) (httpapi.Lambda, error) { return route(rt, handleGetLicense) }

// NewCreateLicenseInvite builds POST /licenses/{licenseId}/invites.
func NewCreateLicenseInvite(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, handleCreateInvite)
}

// NewJoinLicense builds POST /licenses/join.
func NewJoinLicense(rt *platform.Runtime) (httpapi.Lambda, error) { return route(rt, handleJoin) }

// NewAssignLicenseSeat builds POST /licenses/{licenseId}/seats.
func NewAssignLicenseSeat(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, handleAssignSeat)
}

// NewRemoveLicenseSeat builds DELETE /licenses/{licenseId}/seats/{userId}.
func NewRemoveLicenseSeat(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, handleRemoveSeat)
}

// NewListLicenseSeats builds GET /licenses/{licenseId}/seats.
func NewListLicenseSeats(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, handleListSeats)
}

// NewPutLicenseBranding builds PUT /licenses/{licenseId}/branding.
func NewPutLicenseBranding(rt *platform.Runtime) (httpapi.Lambda, error) {
	return route(rt, handlePutBranding)
}

// NewGetLicenseUsage builds GET /licenses/{licenseId}/usage.
func NewGetLicenseUsage(rt *platform.Runtime) (httpapi.Lambda, error) { return route(rt, handleUsage) }

// NewLicenseExpiry builds the daily license-expiry job.
func NewLicenseExpiry(rt *platform.Runtime) (job.Handler[ExpiryReport], error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return job.Handle(rt.Log, func(ctx context.Context) (ExpiryReport, error) { return RunExpiry(ctx, d) }), nil
}

// NewLicenseUsageReport builds the monthly license-usage-report job.
func NewLicenseUsageReport(rt *platform.Runtime) (job.Handler[UsageReport], error) {
	d, err := NewDeps(rt)
	if err != nil {
		return nil, err
	}
	return job.Handle(rt.Log, func(ctx context.Context) (UsageReport, error) { return RunUsageReport(ctx, d) }), nil
}
