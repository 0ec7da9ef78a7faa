package licensing

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/notify"
	"github.com/liberation/monetization/shared/privacy"
	"github.com/liberation/monetization/shared/store"
)

// ExpiryReport is what the daily license-expiry job did.
type ExpiryReport struct {
	Licenses           int `json:"licenses"`
	Expired            int `json:"expired"`
	NoticesSent        int `json:"noticesSent"`
	NoticesAlreadySent int `json:"noticesAlreadySent"`
	Sampled            int `json:"sampled"`
	Failures           int `json:"failures"`
}

func wireLicenseExpiry(w wiring) (job.Handler[ExpiryReport], error) {
	return job.Handle(w.rt.Log, func(ctx context.Context) (ExpiryReport, error) { return RunExpiry(ctx, w.d) }), nil
}

// RunExpiry is the daily job, idempotent: for every license it applies expiry (status expired, the
// gauges updated; the expiration policy itself is evaluated at every entitlement check), sends the
// expiring-soon notice due (30, 7 or 1 days before; one per threshold and admin address, ever), and
// adds the day's overage seats to the month's overage seat-days (once per day). One license failing
// does not stop the others; the job then fails so the schedule retries it.
func RunExpiry(ctx context.Context, d *Deps) (ExpiryReport, error) {
	var rep ExpiryReport
	now := d.now()
	log := logging.From(ctx)
	var sold, used int64 // seats of the licenses counted in the gauges once this run's expiries applied
	err := d.Licenses.EachLicense(ctx, func(l License) error {
		rep.Licenses++
		if err := expiryOne(ctx, d, l, now, &rep); err != nil {
			rep.Failures++
			log.Error("license expiry step failed", "licenseId", l.ID, "code", apperr.CodeOf(err), "err", err.Error())
		}
		if l.Counted && !(l.Status == StatusActive && l.Expired(now)) {
			sold, used = sold+l.Seats, used+l.SeatsUsed
		}
		return nil
	})
	if err == nil { // a complete walk: the dashboard's seats used vs sold, daily
		metric.Record(ctx, log, metric.Point{Name: metric.LicenseSeatsSold, Unit: metric.Count, Value: sold})
		metric.Record(ctx, log, metric.Point{Name: metric.LicenseSeatsUsed, Unit: metric.Count, Value: used})
	}
	if err == nil && rep.Failures > 0 {
		err = apperr.New(apperr.Unavailable, "%d licenses failed; the next run retries them", rep.Failures)
	}
	return rep, err
}

func expiryOne(ctx context.Context, d *Deps, l License, now time.Time, rep *ExpiryReport) error {
	if l.Status == StatusActive && l.Expired(now) {
		done, err := expire(ctx, d, l.ID, now)
		if err != nil {
			return err
		}
		if done {
			rep.Expired++
		}
	}
	if days, ok := expiryNotice(l, now); ok {
		b, err := licenseBranding(ctx, d.Brandings, l.ID)
		if err != nil {
			return err
		}
		for _, to := range l.AdminEmails {
			if privacy.IsErasedEmail(to) {
				continue // an erased admin's pseudonym address (privacy_erase.go): no mail goes there
			}
			dedupe := "license-expiring#" + l.ID + "#" + strconv.FormatInt(l.ExpiresAt.Unix(), 10) + "#" + strconv.Itoa(days) + "#" + to
			o, err := d.send(ctx, b, to, dedupe, expiringMail(l, b, days))
			if err != nil {
				return err
			}
			if o == notify.Sent {
				rep.NoticesSent++
			} else {
				rep.NoticesAlreadySent++
			}
		}
	}
	if l.Activated() && !l.Suspended {
		sampled, err := sampleDay(ctx, d.Usage, l, now)
		if err != nil {
			return err
		}
		if sampled {
			rep.Sampled++
		}
	}
	return nil
}

// expire moves an active license past its expiry to expired (and out of the gauges); false when
// another run already did.
func expire(ctx context.Context, d *Deps, id string, now time.Time) (bool, error) {
	for attempt := 0; attempt < maxSeatAttempts; attempt++ {
		l, err := getLicense(ctx, d.Licenses, id)
		if err != nil {
			return false, err
		}
		if l.Status != StatusActive || !l.Expired(now) {
			return false, nil
		}
		next := l
		next.Version, next.UpdatedAt = l.Version+1, now
		next.lifecycle(now)
		err = d.Licenses.WriteLicense(ctx, licenseWrite{Prev: &l, Next: &next, Gauges: gaugeDeltas(l, next), At: now,
			Audit: []audit.Entry{{Actor: audit.ActorJob, Action: "license.expire", Target: "license:" + l.ID,
				Details: map[string]string{"expirationPolicy": l.ExpirationPolicy, "expiresAt": l.ExpiresAt.Format(time.RFC3339)}}}})
		if err == nil {
			return true, nil
		}
		if !retryable(err) {
			return false, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return false, err
		}
	}
	return false, apperr.New(apperr.Conflict, "license %s kept changing", id)
}

// UsageReport is what the monthly license-usage-report job did.
type UsageReport struct {
	Month              string `json:"month"`
	Licenses           int    `json:"licenses"`
	TrueUpLines        int    `json:"trueUpLines"`
	OverageSeatDays    int64  `json:"overageSeatDays"`
	ReportsSent        int    `json:"reportsSent"`
	ReportsAlreadySent int    `json:"reportsAlreadySent"`
	Failures           int    `json:"failures"`
}

// previousMonth is the month before the one containing now.
func previousMonth(now time.Time) string {
	y, m, _ := now.UTC().Date()
	return time.Date(y, m-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

func wireLicenseUsageReport(w wiring) (job.Handler[UsageReport], error) {
	return job.Handle(w.rt.Log, func(ctx context.Context) (UsageReport, error) { return RunUsageReport(ctx, w.d) }), nil
}

// RunUsageReport is the monthly job, idempotent: it closes last month's usage of every activated
// license — writes its true-up line once (overage seat-days, peak seats) and adds it to the month's
// enterprise metrics — and e-mails each admin address the month's report once.
func RunUsageReport(ctx context.Context, d *Deps) (UsageReport, error) {
	now := d.now()
	rep := UsageReport{Month: previousMonth(now)}
	log := logging.From(ctx)
	err := d.Licenses.EachLicense(ctx, func(l License) error {
		if !l.Activated() {
			return nil
		}
		rep.Licenses++
		if err := reportOne(ctx, d, l, rep.Month, now, &rep); err != nil {
			rep.Failures++
			log.Error("license usage report failed", "licenseId", l.ID, "code", apperr.CodeOf(err), "err", err.Error())
		}
		return nil
	})
	if err == nil && rep.Failures > 0 {
		err = apperr.New(apperr.Unavailable, "%d licenses failed; the next run retries them", rep.Failures)
	}
	return rep, err
}

func reportOne(ctx context.Context, d *Deps, l License, m string, now time.Time, rep *UsageReport) error {
	u, _, err := d.Usage.Usage(ctx, l.ID, m)
	if err != nil {
		return err
	}
	if !u.Closed {
		lines := int64(0)
		if u.OverageSeatDays > 0 {
			lines = 1
		}
		err := d.Usage.CloseMonth(ctx, monthClose{License: l,
			Line: TrueUp{LicenseID: l.ID, OrgName: l.OrgName, Month: m, Seats: l.Seats, PeakSeats: u.PeakSeats,
				OverageSeatDays: u.OverageSeatDays, OverageJoins: u.OverageJoins, CreatedAt: now},
			Metrics: map[string]int64{store.CtrEntOverageSeatDays: u.OverageSeatDays, store.CtrEntTrueUpLines: lines}})
		switch {
		case err == nil:
			rep.TrueUpLines++
			rep.OverageSeatDays += u.OverageSeatDays
		case conflictOn(err, partTrueUp): // another run wrote the line: the month is closed
		default:
			return err
		}
	}
	v, err := usageOf(ctx, d.Usage, l, m, false)
	if err != nil {
		return err
	}
	b, err := licenseBranding(ctx, d.Brandings, l.ID)
	if err != nil {
		return err
	}
	link := d.appLink(fmt.Sprintf("/enterprise/licenses/%s/usage", l.ID), nil)
	for _, to := range l.AdminEmails {
		if privacy.IsErasedEmail(to) {
			continue // an erased admin's pseudonym address: no mail goes there
		}
		o, err := d.send(ctx, b, to, "license-usage#"+l.ID+"#"+m+"#"+to, usageMail(l, b, v, link))
		if err != nil {
			return err
		}
		if o == notify.Sent {
			rep.ReportsSent++
		} else {
			rep.ReportsAlreadySent++
		}
	}
	return nil
}
