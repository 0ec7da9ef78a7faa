package licensing

import (
	"context"

	"github.com/liberation/monetization/shared/notify"
)

// Branding is an organisation's white-label settings, validated when stored (PUT
// /licenses/{id}/branding) and to be escaped wherever rendered. A zero Custom means the platform's.
type Branding struct {
	Custom        bool   `dynamodbav:"-" json:"-"`
	LicenseID     string `dynamodbav:"-" json:"-"`
	DisplayName   string `dynamodbav:"displayName" json:"displayName"`
	LogoURL       string `dynamodbav:"logoUrl" json:"logoUrl"`
	PrimaryColor  string `dynamodbav:"primaryColor" json:"primaryColor"`
	AccentColor   string `dynamodbav:"accentColor" json:"accentColor"`
	EmailFromName string `dynamodbav:"emailFromName" json:"emailFromName"`
	SupportEmail  string `dynamodbav:"supportEmail" json:"supportEmail"`
	CustomDomain  string `dynamodbav:"customDomain" json:"customDomain"`
}

// PlatformBranding is the platform's own branding (everyone without an organisation's).
func PlatformBranding() Branding {
	p := notify.Platform
	return Branding{DisplayName: p.Name, PrimaryColor: p.PrimaryColor, AccentColor: p.AccentColor,
		EmailFromName: p.FromName, SupportEmail: p.SupportEmail}
}

// Brand is the branding as e-mails use it (unsafe values fall back to the platform's).
func (b Branding) Brand() notify.Brand {
	return notify.Brand{Name: b.DisplayName, PrimaryColor: b.PrimaryColor, AccentColor: b.AccentColor,
		LogoURL: b.LogoURL, FromName: b.EmailFromName, SupportEmail: b.SupportEmail}.Safe()
}

// From is the From header for an e-mail in this branding, on our sending address mailFrom.
func (b Branding) From(mailFrom string) string { return notify.From(b.Brand(), mailFrom) }

// BrandingFor returns the branding of everything sent to userID: their organisation's when they
// hold a seat of a license with branding set, else the platform's. Its values passed validation
// when stored and are re-checked by Brand(); render them escaped. One GetItem for a user without a
// seat, two for a seat holder.
func BrandingFor(ctx context.Context, r Reader, userID string) (Branding, error) {
	rr := readerRepo{r}
	m, ok, err := rr.Membership(ctx, userID)
	if err != nil || !ok {
		return PlatformBranding(), err
	}
	return licenseBranding(ctx, rr, m.LicenseID)
}

// LicenseBranding returns a license's branding (the platform's until its org admins set one).
func LicenseBranding(ctx context.Context, r Reader, licenseID string) (Branding, error) {
	return licenseBranding(ctx, readerRepo{r}, licenseID)
}

func licenseBranding(ctx context.Context, r brandingReader, licenseID string) (Branding, error) {
	rec, ok, err := r.Branding(ctx, licenseID)
	if err != nil || !ok {
		return PlatformBranding(), err
	}
	b := rec.Branding
	b.Custom, b.LicenseID = true, licenseID
	return b, nil
}
