package licensing

import (
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/httpapi"
	"github.com/liberation/monetization/shared/notify"
)

func invalid(field, format string, args ...any) error {
	return apperr.New(apperr.Invalid, field+" "+format, args...)
}

// unprocessable is a well-formed field the request's schema cannot judge (an unknown time zone, a
// date that must follow another): 422, naming the field.
func unprocessable(field, format string, args ...any) error {
	return apperr.New(apperr.Unprocessable, field+" "+format, args...)
}

// createRequest is POST /admin/licenses.
type createRequest struct {
	OrgName          string    `json:"orgName"`
	Seats            int64     `json:"seats"`
	StartsAt         time.Time `json:"startsAt"`
	ExpiresAt        time.Time `json:"expiresAt"`
	OveragePolicy    string    `json:"overagePolicy"`
	ExpirationPolicy string    `json:"expirationPolicy"`
	AdminEmails      []string  `json:"adminEmails"`
	TimeZone         string    `json:"timeZone,omitempty"`
}

func (c *createRequest) Validate() error {
	var err error
	if c.OrgName, err = httpapi.OneLine("orgName", c.OrgName, MaxOrgName); err != nil {
		return err
	}
	if err := validSeats(c.Seats); err != nil {
		return err
	}
	if c.StartsAt.IsZero() {
		return invalid("startsAt", "is required (RFC 3339)")
	}
	if c.ExpiresAt.IsZero() {
		return invalid("expiresAt", "is required (RFC 3339)")
	}
	if !c.ExpiresAt.After(c.StartsAt) {
		return unprocessable("expiresAt", "must be after startsAt")
	}
	if err := validOverage(c.OveragePolicy); err != nil {
		return err
	}
	if err := validExpiration(c.ExpirationPolicy); err != nil {
		return err
	}
	if c.AdminEmails, err = emails("adminEmails", c.AdminEmails); err != nil {
		return err
	}
	return validZone(c.TimeZone)
}

// patchRequest is PATCH /admin/licenses/{licenseId}: absent fields stay as they are.
type patchRequest struct {
	OrgName          *string    `json:"orgName,omitempty"`
	Seats            *int64     `json:"seats,omitempty"`
	ExpiresAt        *time.Time `json:"expiresAt,omitempty"`
	Suspended        *bool      `json:"suspended,omitempty"`
	OveragePolicy    *string    `json:"overagePolicy,omitempty"`
	ExpirationPolicy *string    `json:"expirationPolicy,omitempty"`
	AdminEmails      []string   `json:"adminEmails,omitempty"`
	TimeZone         *string    `json:"timeZone,omitempty"`
}

func (p *patchRequest) Validate() error {
	if p.OrgName == nil && p.Seats == nil && p.ExpiresAt == nil && p.Suspended == nil && p.OveragePolicy == nil &&
		p.ExpirationPolicy == nil && p.AdminEmails == nil && p.TimeZone == nil {
		return apperr.New(apperr.Invalid, "request body changes nothing")
	}
	if p.OrgName != nil {
		v, err := httpapi.OneLine("orgName", *p.OrgName, MaxOrgName)
		if err != nil {
			return err
		}
		p.OrgName = &v
	}
	if p.Seats != nil {
		if err := validSeats(*p.Seats); err != nil {
			return err
		}
	}
	if p.ExpiresAt != nil && p.ExpiresAt.IsZero() {
		return invalid("expiresAt", "must be an RFC 3339 time")
	}
	if p.OveragePolicy != nil {
		if err := validOverage(*p.OveragePolicy); err != nil {
			return err
		}
	}
	if p.ExpirationPolicy != nil {
		if err := validExpiration(*p.ExpirationPolicy); err != nil {
			return err
		}
	}
	if p.AdminEmails != nil {
		var err error
		if p.AdminEmails, err = emails("adminEmails", p.AdminEmails); err != nil {
			return err
		}
	}
	if p.TimeZone != nil {
		return validZone(*p.TimeZone)
	}
	return nil
}

// apply returns the license with the patch applied (terms only; the caller re-signs and recomputes
// the lifecycle).
func (p *patchRequest) apply(l License) (License, error) {
	if p.OrgName != nil {
		l.OrgName = *p.OrgName
	}
	if p.Seats != nil {
		if *p.Seats < l.SeatsUsed {
			return l, apperr.New(apperr.Unprocessable, "seats cannot go below the %d seats taken; free seats first", l.SeatsUsed)
		}
		l.Seats = *p.Seats
	}
	if p.ExpiresAt != nil {
		if !p.ExpiresAt.After(l.StartsAt) {
			return l, unprocessable("expiresAt", "must be after startsAt (%s)", l.StartsAt.UTC().Format(time.RFC3339))
		}
		l.ExpiresAt = p.ExpiresAt.UTC()
	}
	if p.Suspended != nil {
		l.Suspended = *p.Suspended
	}
	if p.OveragePolicy != nil {
		l.OveragePolicy = *p.OveragePolicy
	}
	if p.ExpirationPolicy != nil {
		l.ExpirationPolicy = *p.ExpirationPolicy
	}
	if p.AdminEmails != nil {
		l.AdminEmails = p.AdminEmails
	}
	if p.TimeZone != nil {
		l.TimeZone = *p.TimeZone
	}
	return l, nil
}

func validSeats(n int64) error {
	if n < 1 || n > MaxSeats {
		return invalid("seats", "must be from 1 to %d", MaxSeats)
	}
	return nil
}

func validOverage(p string) error {
	if p != OverageBlock && p != OverageAllow {
		return invalid("overagePolicy", "must be block or allow")
	}
	return nil
}

func validExpiration(p string) error {
	if p != ExpireRestrict && p != ExpireRevoke && p != ExpireMaintain {
		return invalid("expirationPolicy", "must be restrict, revoke or maintain")
	}
	return nil
}

// ZonePattern is the shape of an IANA zone name ("Europe/Berlin", "America/Argentina/Buenos_Aires",
// "Etc/GMT+5"), or empty for UTC; docs/openapi.yaml's TimeZone states the same pattern (a test
// compares them). A name of that shape that is not a zone is a 422, not a 400.
const ZonePattern = `^([A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*)?$`

var zoneShape = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(ZonePattern) })

// validZone checks an IANA zone name. The zone database comes from time/tzdata, linked by the
// functions that take zone names (manifest flag ZoneDB) and by support (which resolves them).
func validZone(name string) error {
	if name == "" {
		return nil
	}
	if len(name) > 64 || !zoneShape().MatchString(name) {
		return invalid("timeZone", "must be an IANA time zone name such as Europe/Berlin")
	}
	// "Local" is the server's zone to time.LoadLocation, not a zone of the database.
	if _, err := time.LoadLocation(name); err != nil || name == "Local" {
		return unprocessable("timeZone", "is not a known IANA time zone name (such as Europe/Berlin)")
	}
	return nil
}

// Email normalises an address (lower case, trimmed); ok is false unless it is a bare address.
func Email(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 254 {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.IndexByte(s, '@')+1:], ".") {
		return "", false
	}
	return s, true
}

func emails(field string, in []string) ([]string, error) {
	if len(in) == 0 || len(in) > MaxAdminEmails {
		return nil, invalid(field, "must list 1 to %d e-mail addresses", MaxAdminEmails)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(in))
	for _, e := range in {
		n, ok := Email(e)
		if !ok {
			return nil, invalid(field, "contains an invalid e-mail address")
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// brandingRequest is PUT /licenses/{licenseId}/branding: the whole branding, replaced.
type brandingRequest struct {
	DisplayName   string `json:"displayName"`
	LogoURL       string `json:"logoUrl"`
	PrimaryColor  string `json:"primaryColor"`
	AccentColor   string `json:"accentColor"`
	EmailFromName string `json:"emailFromName"`
	SupportEmail  string `json:"supportEmail"`
	CustomDomain  string `json:"customDomain"`
}

func (b *brandingRequest) Validate() error {
	var err error
	if b.DisplayName, err = httpapi.OneLine("displayName", b.DisplayName, 80); err != nil {
		return err
	}
	if b.LogoURL != "" && !notify.HTTPSURL(b.LogoURL) {
		return invalid("logoUrl", "must be an absolute https URL (it is never fetched by the server)")
	}
	if !notify.ValidColor(b.PrimaryColor) {
		return invalid("primaryColor", "must be a colour #RRGGBB")
	}
	if !notify.ValidColor(b.AccentColor) {
		return invalid("accentColor", "must be a colour #RRGGBB")
	}
	b.PrimaryColor, b.AccentColor = strings.ToUpper(b.PrimaryColor), strings.ToUpper(b.AccentColor)
	if b.EmailFromName, err = httpapi.OneLine("emailFromName", b.EmailFromName, 64); err != nil {
		return err
	}
	if strings.ContainsAny(b.EmailFromName, `<>@"\`) {
		return invalid("emailFromName", `must not contain < > @ " or \`)
	}
	var ok bool
	if b.SupportEmail, ok = Email(b.SupportEmail); !ok {
		return invalid("supportEmail", "must be an e-mail address")
	}
	if b.CustomDomain != "" {
		if b.CustomDomain, ok = hostname(b.CustomDomain); !ok {
			return invalid("customDomain", "must be a domain name such as learn.example.com")
		}
	}
	return nil
}

// hostname normalises a DNS name (lower case); ok is false unless it has two or more LDH labels
// and an alphabetic top-level label (so never an IP address).
func hostname(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if len(s) > 253 {
		return "", false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	for _, c := range labels[len(labels)-1] {
		if c < 'a' || c > 'z' {
			return "", false
		}
	}
	return s, true
}

// inviteRequest is POST /licenses/{licenseId}/invites.
type inviteRequest struct {
	Email         string `json:"email,omitempty"`
	MaxUses       int64  `json:"maxUses,omitempty"`
	ExpiresInDays int64  `json:"expiresInDays,omitempty"`
}

// Invite limits.
const (
	MaxInviteUses       = 10000
	DefaultInviteDays   = 14
	MaxInviteDays       = 90
	inviteCodeRandBytes = 10 // 80 bits
)

func (i *inviteRequest) Validate() error {
	if i.Email != "" {
		e, ok := Email(i.Email)
		if !ok {
			return invalid("email", "must be an e-mail address")
		}
		i.Email = e
		if i.MaxUses > 1 {
			return unprocessable("maxUses", "must be 1 for an invite to one e-mail address")
		}
	}
	if i.MaxUses == 0 {
		i.MaxUses = 1
	}
	if i.MaxUses < 1 || i.MaxUses > MaxInviteUses {
		return invalid("maxUses", "must be from 1 to %d", MaxInviteUses)
	}
	if i.ExpiresInDays == 0 {
		i.ExpiresInDays = DefaultInviteDays
	}
	if i.ExpiresInDays < 1 || i.ExpiresInDays > MaxInviteDays {
		return invalid("expiresInDays", "must be from 1 to %d", MaxInviteDays)
	}
	return nil
}

// joinRequest is POST /licenses/join.
type joinRequest struct {
	Code string `json:"code"`
}

func (j *joinRequest) Validate() error {
	j.Code = strings.ToUpper(strings.TrimSpace(j.Code))
	if !validInviteCode(j.Code) {
		return invalid("code", "must be an invite code like LIB-XXXX-XXXX-XXXX-XXXX")
	}
	return nil
}

// assignRequest is POST /licenses/{licenseId}/seats.
type assignRequest struct {
	Email string `json:"email"`
}

func (a *assignRequest) Validate() error {
	e, ok := Email(a.Email)
	if !ok {
		return invalid("email", "must be an e-mail address")
	}
	a.Email = e
	return nil
}

// activateRequest is POST /licenses/activate.
type activateRequest struct {
	Key string `json:"key"`
}

func (a *activateRequest) Validate() error {
	a.Key = strings.TrimSpace(a.Key)
	if a.Key == "" || len(a.Key) > 8192 {
		return invalid("key", "is required (the license key, at most 8192 characters)")
	}
	return nil
}
