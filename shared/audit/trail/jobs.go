package trail

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/liberation/monetization/shared/apperr"
	"github.com/liberation/monetization/shared/audit/verify"
	"github.com/liberation/monetization/shared/blob"
	"github.com/liberation/monetization/shared/clock"
	"github.com/liberation/monetization/shared/job"
	"github.com/liberation/monetization/shared/logging"
	"github.com/liberation/monetization/shared/manifest"
	"github.com/liberation/monetization/shared/metric"
	"github.com/liberation/monetization/shared/store"
)

// MetricChainBreaks is the verify job's metric: the problems it found (0 included, every run), which
// the AuditChainBreaks alarm watches (docs/runbooks/audit-tampering.md).
const MetricChainBreaks = metric.AuditChainBreaks

// SealKey is where a day's seal is kept (the bucket is versioned: a seal overwritten keeps its
// first version).
func SealKey(day string) string { return manifest.AuditSealPrefix + day + ".json" }

// MaxVerifyDays bounds a verify run's range.
const MaxVerifyDays = 31

// detail is the job event's detail: the schedule sends none (yesterday); a person sends {"day":…}
// (make job NAME=audit-verify DAY=yyyy-mm-dd) or, for verify, {"from":…,"to":…} (days, inclusive).
type detail struct {
	Day  string `json:"day"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Days reads the days a run covers: the detail's, else yesterday by the clock (UTC).
func Days(ev events.EventBridgeEvent, now time.Time, maxDays int) ([]string, error) {
	var d detail
	if err := job.Detail(ev, &d, "an object"); err != nil {
		return nil, err
	}
	today := now.UTC().Truncate(24 * time.Hour)
	from, to := today.AddDate(0, 0, -1), today.AddDate(0, 0, -1)
	var err error
	parse := func(name, s string) time.Time {
		t, e := time.Parse(time.DateOnly, s)
		if e != nil && err == nil {
			err = apperr.New(apperr.Invalid, "%s must be a day (yyyy-mm-dd)", name)
		}
		return t
	}
	switch {
	case d.Day != "":
		from = parse("day", d.Day)
		to = from
	case d.From != "" || d.To != "":
		from, to = parse("from", d.From), parse("to", d.To)
	}
	if err != nil {
		return nil, err
	}
	if to.Before(from) || to.After(today) || to.Sub(from) >= time.Duration(maxDays)*24*time.Hour {
		return nil, apperr.New(apperr.Invalid, "the days must run forward, end by today and span at most %d", maxDays)
	}
	var out []string
	for t := from; !t.After(to); t = t.AddDate(0, 0, 1) {
		out = append(out, t.Format(time.DateOnly))
	}
	return out, nil
}

// SealReport is what a seal run did for its day.
type SealReport struct {
	Day     string              `json:"day"`
	Key     string              `json:"key"`
	Records int64               `json:"records"`
	Chains  int                 `json:"chains"`
	Already bool                `json:"alreadySealed"` // a seal was there (and the heads still match it)
	Differs bool                `json:"differs"`       // a seal was there and the heads do not match it
	Heads   []verify.ChainState `json:"heads"`
}

func wireAuditSeal(w wiring) (job.Handler[SealReport], error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (SealReport, error) {
		return job.Handle(w.rt.Log, func(ctx context.Context) (SealReport, error) {
			ds, err := Days(ev, w.Clock.Now(), 1)
			if err != nil {
				return SealReport{}, err
			}
			return Seal(ctx, w.Store, w.Blobs, w.Clock, ds[0])
		})(ctx, ev)
	}, nil
}

// Seal writes the day's seal — every chain's head (seq, last hash, last record) — to SealKey(day)
// and logs each chain's last hash (the logs are a second, separate copy). Idempotent: when a seal
// is there it is kept (never overwritten) and compared with the heads; a difference is logged as an
// error (a head moved after its day was sealed: the verify job names the record).
func Seal(ctx context.Context, s *store.Store, b blob.Store, clk clock.Clock, day string) (SealReport, error) {
	log := logging.From(ctx).With("day", day)
	heads, err := s.AuditHeads(ctx, day)
	if err != nil {
		return SealReport{}, err
	}
	seal := verify.SealOf(day, heads, clk.Now())
	rep := SealReport{Day: day, Key: SealKey(day), Records: seal.Records, Chains: len(seal.Chains), Heads: seal.Chains}
	for _, c := range seal.Chains {
		log.Info("audit chain sealed", "chain", c.Chain, "seq", c.Seq, "hash", c.Hash, "lastId", c.LastID)
	}
	prev, err := readSeal(ctx, b, day)
	if err != nil {
		return rep, err
	}
	if prev != nil {
		rep.Already = true
		a, _ := json.Marshal(prev.Chains)
		c, _ := json.Marshal(seal.Chains)
		if !bytes.Equal(a, c) {
			rep.Differs = true
			log.Error("audit seal differs from the chains' heads", "sealed", prev.Chains, "heads", seal.Chains)
		}
		return rep, nil
	}
	body, err := json.MarshalIndent(seal, "", "  ")
	if err != nil {
		return rep, apperr.Wrap(err, apperr.Internal, "encode seal")
	}
	return rep, b.Put(ctx, blob.Object{Key: SealKey(day), ContentType: "application/json"}, body)
}

// readSeal reads a day's seal (nil when the day has none).
func readSeal(ctx context.Context, b blob.Store, day string) (*verify.Seal, error) {
	body, err := b.Get(ctx, SealKey(day))
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s verify.Seal
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "decode seal %s", SealKey(day))
	}
	return &s, nil
}

// VerifyReport is a verify run: each day's report and the problems in all.
type VerifyReport struct {
	Days     []verify.Report `json:"days"`
	Problems int             `json:"problems"`
}

func wireAuditVerify(w wiring) (job.Handler[VerifyReport], error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (VerifyReport, error) {
		return job.Handle(w.rt.Log, func(ctx context.Context) (VerifyReport, error) {
			ds, err := Days(ev, w.Clock.Now(), MaxVerifyDays)
			if err != nil {
				return VerifyReport{}, err
			}
			return Verify(ctx, w.Store, w.Blobs, ds, w.Emit)
		})(ctx, ev)
	}, nil
}

// Verify recomputes the chains of each day, against the day's seal when there is one, logs each
// problem as an error (chain, position, record id, kind) and emits MetricChainBreaks with their
// number (0 included, so the alarm sees every run).
func Verify(ctx context.Context, s *store.Store, b blob.Store, days []string, emit func(context.Context, string, int64)) (VerifyReport, error) {
	rep := VerifyReport{Days: []verify.Report{}}
	log := logging.From(ctx)
	for _, day := range days {
		seal, err := readSeal(ctx, b, day)
		if err != nil {
			return rep, err
		}
		r, err := verify.Day(ctx, s, day, seal)
		if err != nil {
			return rep, err
		}
		for _, p := range r.Problems {
			log.Error("audit chain broken", "day", day, "chain", p.Chain, "position", p.Position, "id", p.ID,
				"kind", p.Kind, "detail", p.Detail)
		}
		rep.Problems += len(r.Problems)
		rep.Days = append(rep.Days, r)
	}
	emit(ctx, MetricChainBreaks, int64(rep.Problems))
	return rep, nil
}
