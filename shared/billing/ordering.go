package billing

// Stamp orders Stripe-sourced states of a user's subscription: Stripe's event created time, then
// the status rank, then the event id (any deterministic tie-break makes arrival order irrelevant).
type Stamp struct {
	Created int64
	Rank    int
	ID      string
}

func (a Stamp) less(b Stamp) bool {
	if a.Created != b.Created {
		return a.Created < b.Created
	}
	if a.Rank != b.Rank {
		return a.Rank < b.Rank
	}
	return a.ID < b.ID
}

func stampOf(s Subscription) Stamp {
	return Stamp{Created: s.LastEventCreated, Rank: s.LastEventRank, ID: s.LastEventID}
}

// Status ranks for states of one subscription that Stripe stamped with the same second:
// incomplete < live states < terminal states (created(incomplete) and updated(active) routinely share
// a second at checkout).
const (
	rankIncomplete = 0
	rankLive       = 1
	rankTerminal   = 2
)

func statusRank(status string) int {
	switch {
	case status == StatusIncomplete:
		return rankIncomplete
	case terminal(status):
		return rankTerminal
	}
	return rankLive
}

// endedAtStripe reports a stored terminal status that Stripe itself reported: the watermark's rank
// is that of the status. A terminal status with a live watermark was written by us (the
// billing-cycle job of earlier versions expired cancellations as "canceled"); it is our inference,
// and never blocks what Stripe says later (docs/decisions/0036).
func endedAtStripe(s Subscription) bool {
	return terminal(s.Status) && s.LastEventRank == rankTerminal
}

// decision is whether a Stripe state may replace the stored item, and if not why.
type decision struct {
	apply  bool
	reason string
	// otherLive: a live subscription other than the stored live one (recorded for the job).
	otherLive bool
}

// syncDecision applies the ordering rules (docs/decisions/0007) and one live subscription per user
// (docs/decisions/0036) to Stripe's state s of a subscription, stamped st, against the stored cur.
func syncDecision(cur Subscription, s State, st Stamp) decision {
	if !cur.Exists() || cur.StripeSubscriptionID == "" {
		return decision{apply: true}
	}
	if cur.StripeSubscriptionID == s.SubscriptionID {
		if endedAtStripe(cur) && !terminal(s.Status) {
			return decision{reason: "subscription already ended"}
		}
		if st.less(stampOf(cur)) {
			return decision{reason: "older than the stored state"}
		}
		return decision{apply: true}
	}
	// Another Stripe subscription than the stored one: it replaces the stored one only once that
	// has ended. Between two ended ones the newer stays; a live one always replaces an ended one,
	// whatever their stamps (the stamps of two subscriptions do not order their lives).
	switch {
	case !terminal(cur.Status) && terminal(s.Status):
		return decision{reason: "an old subscription ended; the current one stays"}
	case !terminal(cur.Status):
		return decision{reason: "another live subscription is stored", otherLive: true}
	case terminal(s.Status) && st.less(stampOf(cur)):
		return decision{reason: "older than the stored state"}
	}
	return decision{apply: true}
}
