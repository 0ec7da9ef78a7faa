package marketplace

import (
	"context"
	"slices"
	"time"

	"github.com/liberation/monetization/shared/marketplace/catalog"
)

// The buyer's access follows their sales, and their review follows their access: one rule, applied
// in the same change as whatever moved the sale (booking, a refund in either direction, a dispute).
//
//   - A purchase enrolment is active while at least one of its sales stands (Sale.Stands: not
//     everything was returned). A sale fully refunded or lost in a dispute leaves; a refund that
//     fails brings it back.
//   - A review counts in the course's aggregate only while its author holds the course: revoking
//     access withholds a published review (kept for moderation); restoring access publishes it again.
//   - A free enrolment never depends on sales.

// followSale adds to c the enrolment, review and listing changes that make s's buyer's access agree
// with s as it will be written (reads the enrolment and, when access changes, the review).
func followSale(ctx context.Context, d *Deps, c *Change, s Sale, at time.Time) error {
	if s.BuyerID == "" || s.BuyerID == s.InstructorID {
		return nil // the instructor's own purchase gives nothing they do not have
	}
	cur, err := d.Books.Enrollment(ctx, s.BuyerID, s.CourseID)
	if err != nil {
		return err
	}
	e, changed, activeChanged := accessAfter(cur, s, at)
	if !changed {
		return nil
	}
	var read int64
	if cur != nil {
		read = cur.Version
	}
	e.Version = read + 1
	c.Enrollment = &Versioned[Enrollment]{Item: e, Read: read}
	if !activeChanged {
		return nil
	}
	delta := int64(1)
	if !e.Active() {
		delta = -1
	}
	addListing(c, map[string]int64{catalog.CtrEnrollments: delta})
	rv, err := d.Books.Review(ctx, s.CourseID, s.BuyerID)
	if err != nil || rv == nil {
		return err
	}
	next := *rv
	switch {
	case !e.Active() && rv.Counts():
		next.Status = ReviewWithheld
	case e.Active() && rv.Status == ReviewWithheld:
		next.Status = ReviewPublished
	default:
		return nil
	}
	next.Version = rv.Version + 1
	c.Review = &Versioned[Review]{Item: next, Read: rv.Version}
	addListing(c, RatingDeltas(rv.counted(), next.counted()))
	return nil
}

// accessAfter is the enrolment after sale s is written, given the one read (nil: none): changed
// tells whether it must be written, activeChanged whether access itself changed.
func accessAfter(cur *Enrollment, s Sale, at time.Time) (e Enrollment, changed, activeChanged bool) {
	if cur == nil {
		if !s.Stands() {
			return Enrollment{}, false, false
		}
		return Enrollment{UserID: s.BuyerID, CourseID: s.CourseID, CourseTitle: s.CourseTitle, InstructorID: s.InstructorID,
			Status: EnrollActive, Source: SourcePurchase, SaleID: s.ID, SaleIDs: []string{s.ID}, EnrolledAt: s.SoldAt}, true, true
	}
	e = *cur
	before := slices.Clone(e.standing())
	sales := slices.DeleteFunc(slices.Clone(before), func(id string) bool { return id == s.ID })
	if s.Stands() {
		sales = append(sales, s.ID)
		slices.Sort(sales)
	}
	e.SaleIDs = sales
	wasActive := e.Active()
	switch {
	case !wasActive && len(sales) > 0:
		e.Status, e.RevokedAt, e.Source = EnrollActive, nil, SourcePurchase
		if e.SaleID == "" || !slices.Contains(before, e.SaleID) && e.SaleID != s.ID {
			e.SaleID, e.EnrolledAt = s.ID, s.SoldAt // bought again after losing access
		}
	case wasActive && len(sales) == 0 && e.Source == SourcePurchase:
		e.Status, e.RevokedAt = EnrollRevoked, &at
	}
	if e.SaleID == "" && s.Stands() {
		e.SaleID = s.ID
	}
	slices.Sort(before)
	changed = !slices.Equal(before, sales) || e.Status != cur.Status || len(cur.SaleIDs) == 0 && len(sales) > 0
	return e, changed, e.Active() != wasActive
}

// addListing merges catalog counter deltas into the change (one update of the listing item).
func addListing(c *Change, deltas map[string]int64) {
	if c.Listing == nil {
		c.Listing = map[string]int64{}
	}
	for k, v := range deltas {
		c.Listing[k] += v
	}
}
