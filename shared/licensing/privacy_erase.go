package licensing

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/platform"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// ErasePersonalDataHooks registers licensing's eraser with the erasure host (issue 18,
// docs/privacy.md "Erasure").
func ErasePersonalDataHooks(rt *platform.Runtime, r *privacy.Registry) error {
	r.RegisterEraser("licensing", PersonalDataEraser(privacy.Reader{S: store.Open(rt)}, rt.Clock))
	return nil
}

// Audit actions of licensing's erasure (the seat's is the seat-removal action; ids only in the
// details, the target is the pseudonym).
const (
	ActionEraseSeat  = "license.seat.free"
	ActionEraseAdmin = "license.admin_erased"
	ActionEraseBrand = "license.branding_contact_erased"
)

// partBranding names a branding write whose condition failed.
const partBranding = "branding"

// PersonalDataEraser erases a person from licensing, in three phases:
//
//  1. licenses (every license, by the LICENSES index): an admin address of the license that is the
//     person's (the request's addresses, their seat's, their org-admin record's) becomes the
//     pseudonym's address, and their org-admin record carries it too — one write over the license's
//     version (WriteLicense, the terms update: the seat count is not touched) with its audit record;
//     a branding support address that is theirs is removed (e-mails show the platform's instead),
//     conditioned on the address read, with its audit record;
//  2. the e-mail directory: the entry of every address known is deleted while it names this user;
//  3. the seat: freed through the seat-removal transaction (seat and membership deleted, the
//     license's seat count decremented, usage and gauges, the audit record naming the pseudonym).
//
// The seat goes last so that a resumed erasure still knows the seat's address in phases 1 and 2.
// A record already erased (an address already the pseudonym's, an entry or seat gone) reports no
// change.
func PersonalDataEraser(rd privacy.Reader, clk clock.Clock) privacy.Eraser {
	if clk == nil {
		clk = clock.System{}
	}
	repo := newDynamoRepo(rd.S)
	e := licEraser{rd: rd, repo: repo, clk: clk}
	return privacy.Phases(
		privacy.EachRow(func(privacy.ErasureSubject) privacy.Source {
			return rd.Index("license", store.LicensesPK)
		}, e.license),
		privacy.EachRow(e.addresses, e.address),
		privacy.EachRow(func(s privacy.ErasureSubject) privacy.Source {
			return rd.One("license-membership", store.SeatHolderKey(s.UserID))
		}, e.seat),
	)
}

type licEraser struct {
	rd   privacy.Reader
	repo *dynamoRepo
	clk  clock.Clock
}

func (e licEraser) now() time.Time { return e.clk.Now().UTC() }

// known is the person's addresses, lower-case: the request's and their seat's.
func (e licEraser) known(ctx context.Context, s privacy.ErasureSubject) ([]string, error) {
	var out []string
	add := func(a string) {
		a = strings.ToLower(strings.TrimSpace(a))
		if a != "" && !privacy.IsErasedEmail(a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, a := range s.Emails {
		add(a)
	}
	m, ok, err := e.repo.Membership(ctx, s.UserID)
	if err != nil || !ok {
		return out, err
	}
	seat, err := e.repo.Seat(ctx, m.LicenseID, s.UserID)
	if err == nil {
		add(seat.Email)
	} else if !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}
	return out, nil
}

// license erases the person's addresses from one license: its branding's support address (removed:
// e-mails then show the platform's), its admin addresses and their org-admin record (the
// pseudonym's address) — each record its own transaction.
func (e licEraser) license(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	brand, err := e.branding(ctx, s, privacy.Str(row, "id"))
	if err != nil {
		return privacy.RowResult{}, err
	}
	lic, err := e.admins(ctx, s, privacy.Str(row, "id"))
	return privacy.RowResult{Changed: brand || lic}, err
}

// branding removes the license branding's support address when it is the person's.
func (e licEraser) branding(ctx context.Context, s privacy.ErasureSubject, id string) (bool, error) {
	changed := false
	err := store.Retry(ctx, "erase the branding of "+id, maxSeatAttempts, retryable, func() error {
		rec, ok, err := e.repo.Branding(ctx, id)
		if err != nil || !ok || rec.Branding.SupportEmail == "" {
			return err
		}
		addrs, err := e.known(ctx, s)
		if err != nil || !slices.Contains(addrs, strings.ToLower(rec.Branding.SupportEmail)) {
			return err
		}
		err = e.repo.EraseSupportEmail(ctx, id, rec.Branding.SupportEmail, audit.Entry{Actor: privacy.ActorErasure,
			Action: ActionEraseBrand, Target: s.PseudonymTarget(), RequestID: s.RequestID,
			Details: map[string]string{"licenseId": id}}, e.now())
		changed = err == nil
		return err
	})
	return changed, err
}

// admins replaces the person's admin addresses on one license and their org-admin record of it
// (one WriteLicense: the terms update over the license's version, the record, the audit record).
func (e licEraser) admins(ctx context.Context, s privacy.ErasureSubject, id string) (bool, error) {
	changed := false
	err := store.Retry(ctx, "erase the admin addresses of "+id, maxSeatAttempts, retryable, func() error {
		addrs, err := e.known(ctx, s)
		if err != nil {
			return err
		}
		prev, err := e.repo.License(ctx, id)
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		admin, isAdmin, err := e.repo.OrgAdmin(ctx, id, s.UserID)
		if err != nil {
			return err
		}
		if isAdmin && !privacy.IsErasedEmail(admin.Email) {
			addrs = append(addrs, strings.ToLower(admin.Email))
		}
		w := licenseWrite{At: e.now(), Audit: []audit.Entry{{Actor: privacy.ActorErasure, Action: ActionEraseAdmin,
			Target: s.PseudonymTarget(), RequestID: s.RequestID, Details: map[string]string{"licenseId": id}}}}
		if next, changed := replaceAddresses(prev.AdminEmails, addrs, s.PseudonymEmail()); changed {
			n := prev
			n.AdminEmails, n.Version, n.UpdatedAt = next, prev.Version+1, w.At
			w.Prev, w.Next = &prev, &n
		}
		if isAdmin && !privacy.IsErasedEmail(admin.Email) {
			a := admin
			a.Email = s.PseudonymEmail()
			w.Admin = &a
		}
		if w.Next == nil && w.Admin == nil {
			return nil
		}
		err = e.repo.WriteLicense(ctx, w)
		changed = err == nil
		return err
	})
	return changed, err
}

// replaceAddresses returns list with every address of mine replaced by pseudonym (once), and
// whether anything changed.
func replaceAddresses(list, mine []string, pseudonym string) ([]string, bool) {
	var out []string
	changed := false
	for _, a := range list {
		if slices.Contains(mine, strings.ToLower(a)) {
			changed = true
			a = pseudonym
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, changed
}

// addresses is the source of the directory entries of the person's known addresses that name them.
func (e licEraser) addresses(s privacy.ErasureSubject) privacy.Source {
	return privacy.Source{Type: "user-by-email", Fetch: func(ctx context.Context, _ string, _ int) ([]map[string]any, string, error) {
		addrs, err := e.known(ctx, s)
		if err != nil {
			return nil, "", err
		}
		var rows []map[string]any
		for _, a := range addrs {
			row, ok, err := e.rd.Get(ctx, store.UserByEmailKey(a))
			if err != nil {
				return nil, "", err
			}
			if ok && privacy.Str(row, "userId") == s.UserID {
				rows = append(rows, row)
			}
		}
		return rows, "", nil
	}}
}

// address deletes one directory entry while it names the person.
func (e licEraser) address(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	err := e.repo.DeleteAddress(ctx, privacy.Str(row, "email"), s.UserID)
	if conflictOn(err, partAddress) {
		return privacy.RowResult{}, nil // gone, or moved to another user meanwhile: not theirs
	}
	return privacy.RowResult{Changed: err == nil}, err
}

// seat frees the person's seat through the seat-removal transaction (removeSeat's shape), its
// audit record naming the pseudonym.
func (e licEraser) seat(ctx context.Context, s privacy.ErasureSubject, row map[string]any) (privacy.RowResult, error) {
	var res privacy.RowResult
	err := store.Retry(ctx, "free the seat", maxSeatAttempts, retryable, func() error {
		m, ok, err := e.repo.Membership(ctx, s.UserID)
		if err != nil || !ok {
			return err
		}
		l, err := e.repo.License(ctx, m.LicenseID)
		if err != nil {
			return err
		}
		seat, err := e.repo.Seat(ctx, l.ID, s.UserID)
		if err != nil {
			return err
		}
		f := seatFree{License: l, Seat: seat, Usage: map[string]int64{"removals": 1}, At: e.now(),
			Audit: audit.Entry{Actor: privacy.ActorErasure, Action: ActionEraseSeat, Target: s.PseudonymTarget(),
				RequestID: s.RequestID, Details: map[string]string{"licenseId": l.ID, "seatId": seat.SeatID}}}
		if l.Counted {
			f.Gauges = map[string]int64{gaugeUsed: -1}
		}
		err = e.repo.FreeSeat(ctx, f)
		res.Changed = err == nil
		return err
	})
	return res, err
}
