// #/overview (admin): headline tiles from GET /admin/metrics and charts from the daily snapshots of
// GET /admin/metrics/history (all pages of the last 90 days).
import { useMemo } from 'preact/hooks';
import { all, get, paged } from '../api';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { ChartFigure, type Series } from '../components/ChartFigure';
import { formatBasisPoints, formatCount, formatDateTime, formatMoney, formatPercent } from '../components/format';
import { Metric, Tiles } from '../components/Metric';
import { useLoad } from '../hooks';
import type { HistoryDay, Metrics } from '../types';
import { HISTORY_DAYS, historyRange } from '../dates';
import type { PageProps } from './registry';

const SUCCESS_TARGET_BP = 9990; // payment success ≥ 99.9 % (docs/decisions/0035)
const CHURN_TARGET_BP = 100; // churn < 1 %

const fmtCount = (v: number | null) => formatCount(v);
const fmtBp = (v: number | null) => formatBasisPoints(v);
const fmtPct = (v: number | null) => formatPercent(v);

export function OverviewPage(_: PageProps) {
  const metrics = useLoad((signal) => get<Metrics>('/admin/metrics', undefined, signal), []);
  const history = useLoad((signal) => {
    const r = historyRange();
    return all(paged<HistoryDay>('/admin/metrics/history', 'days', r), signal); // every page of the range
  }, []);
  const m = metrics.data;
  const cur = m?.currency ?? history.data?.[0]?.currency ?? 'usd';

  return (
    <>
      <h1>Overview</h1>
      <ApiErrorAlert error={metrics.error} />
      {metrics.loading && !m ? <p class="loading">Loading metrics…</p> : null}
      {m ? (
        <>
          <p class="note">
            As of <time dateTime={m.asOf}>{formatDateTime(m.asOf)}</time>; 30-day figures cover the last 30 UTC days, the
            marketplace the current month ({m.marketplace.period}).
          </p>
          <Tiles label="Subscriptions and payments">
            <Metric label="MRR" doc={m} path="mrrCents" kind="money" currency={cur} note="toward $10,000" />
            <Metric label="Paying customers" doc={m} path="payingCustomers" kind="count" />
            <Metric
              label="Churn rate (30 days)"
              doc={m}
              path="churn.rateBasisPoints"
              kind="bp"
              note={`target below ${formatBasisPoints(CHURN_TARGET_BP)}`}
              warn={m.churn.rateBasisPoints !== null && m.churn.rateBasisPoints >= CHURN_TARGET_BP}
            />
            <Metric
              label="Payment success (30 days)"
              doc={m}
              path="payments.successRateBasisPoints"
              kind="bp"
              note={`target ${formatBasisPoints(SUCCESS_TARGET_BP)} or more`}
              warn={m.payments.successRateBasisPoints !== null && m.payments.successRateBasisPoints < SUCCESS_TARGET_BP}
            />
            <Metric label="Revenue (30 days)" doc={m} path="payments.revenueCents" kind="money" currency={cur} />
            <Metric label="Refunded (30 days)" doc={m} path="payments.refundedCents" kind="money" currency={cur} />
          </Tiles>
          <Tiles label="Marketplace (month to date)">
            <Metric label="GMV" doc={m} path="marketplace.gmvCents" kind="money" currency={cur} />
            <Metric label="Commission" doc={m} path="marketplace.platformRevenueCents" kind="money" currency={cur} />
            <Metric label="Instructor earnings" doc={m} path="marketplace.instructorEarningsCents" kind="money" currency={cur} />
            <Metric label="Paid out" doc={m} path="marketplace.paidOutCents" kind="money" currency={cur} />
          </Tiles>
          <Tiles label="Tokens">
            <Metric label="Issued (30 days)" doc={m} path="tokens.issued" kind="count" />
            <Metric label="Redeemed (30 days)" doc={m} path="tokens.redeemed" kind="count" />
            <Metric label="Outstanding" doc={m} path="tokens.outstanding" kind="count" />
          </Tiles>
          <Tiles label="Enterprise and support">
            <Metric label="Licenses active" doc={m} path="enterprise.licensesActive" kind="count" />
            <Metric label="Seats used" doc={m} path="enterprise.seatsUsed" kind="count" note={`of ${formatCount(m.enterprise.seatsSold)} sold`} />
            <Metric label="Seats sold" doc={m} path="enterprise.seatsSold" kind="count" />
            <Metric label="SLA met (30 days)" doc={m} path="support.slaMetPercent" kind="percent" />
          </Tiles>
        </>
      ) : null}
      <section aria-labelledby="trends">
        <h2 id="trends">Trends (last {HISTORY_DAYS} days)</h2>
        <ApiErrorAlert error={history.error} />
        {history.loading ? <p class="loading">Loading history…</p> : null}
        {history.data && history.data.length === 0 ? (
          <p class="empty">No daily snapshots yet: the billing-cycle job writes one a day.</p>
        ) : null}
        {history.data && history.data.length > 0 ? <HistoryCharts days={history.data} currency={cur} /> : null}
      </section>
    </>
  );
}

/** latest is the newest day's non-null value of a series, formatted, for the figcaption. */
function latest(data: (number | null)[], f: (v: number | null) => string): string {
  for (let i = data.length - 1; i >= 0; i--) if (data[i] !== null && data[i] !== undefined) return f(data[i]!);
  return f(null);
}

function HistoryCharts({ days, currency }: { days: HistoryDay[]; currency: string }) {
  const c = useMemo(() => {
    const col = <T,>(f: (d: HistoryDay) => T | null | undefined) => days.map((d) => f(d) ?? null) as (T | null)[];
    const money = (v: number | null) => formatMoney(v, currency);
    const s = (label: string, data: (number | null)[], extra: Partial<Series> = {}): Series => ({ label, data, ...extra });
    const mrr = col((d) => d.mrrCents);
    const paying = col((d) => d.payingCustomers);
    const churn = col((d) => d.churn.rateBasisPoints);
    const success = col((d) => d.payments.successRateBasisPoints);
    const revenue = col((d) => d.payments.revenueCents);
    const commission = col((d) => d.marketplace?.platformRevenueCents);
    const gmv = col((d) => d.marketplace?.gmvCents);
    const earnings = col((d) => d.marketplace?.instructorEarningsCents);
    const paidOut = col((d) => d.marketplace?.paidOutCents);
    const issued = col((d) => d.tokens?.issued);
    const redeemed = col((d) => d.tokens?.redeemed);
    const outstanding = col((d) => d.tokens?.outstanding);
    const licenses = col((d) => d.enterprise?.licensesActive);
    const seatsSold = col((d) => d.enterprise?.seatsSold);
    const seatsUsed = col((d) => d.enterprise?.seatsUsed);
    const sla = col((d) => d.support?.slaMetPercent);
    return {
      money,
      labels: days.map((d) => d.day),
      mrr: [s('MRR', mrr), s('Paying customers', paying, { right: true })],
      mrrSummary: `Latest: ${latest(mrr, money)} MRR from ${latest(paying, fmtCount)} paying customers.`,
      churn: [s('Churn rate (30 days)', churn), s('Target (below 1%)', days.map(() => CHURN_TARGET_BP), { target: true, color: '#be123c' })],
      churnSummary: `Latest: ${latest(churn, fmtBp)}; the target is below ${fmtBp(CHURN_TARGET_BP)}.`,
      success: [
        s('Payment success (30 days)', success),
        s('Target (99.90%)', days.map(() => SUCCESS_TARGET_BP), { target: true, color: '#be123c' }),
      ],
      successSummary: `Latest: ${latest(success, fmtBp)} against the ${fmtBp(SUCCESS_TARGET_BP)} target.`,
      revenue: [s('Payments revenue (30 days)', revenue), s('Marketplace commission (month to date)', commission)],
      revenueSummary: `Latest: ${latest(revenue, money)} payments revenue over 30 days; ${latest(commission, money)} marketplace commission this month.`,
      market: [s('GMV', gmv), s('Instructor earnings', earnings), s('Paid out to instructors', paidOut)],
      marketSummary: `Latest, month to date: ${latest(gmv, money)} GMV, ${latest(paidOut, money)} paid out to instructors.`,
      tokens: [s('Issued (30 days)', issued), s('Redeemed (30 days)', redeemed), s('Outstanding', outstanding)],
      tokensSummary: `Latest: ${latest(issued, fmtCount)} issued, ${latest(redeemed, fmtCount)} redeemed, ${latest(outstanding, fmtCount)} outstanding.`,
      seats: [s('Seats sold', seatsSold), s('Seats used', seatsUsed), s('Licenses active', licenses, { right: true })],
      seatsSummary: `Latest: ${latest(seatsUsed, fmtCount)} of ${latest(seatsSold, fmtCount)} seats used on ${latest(licenses, fmtCount)} active licenses.`,
      sla: [s('SLA met (30 days)', sla)],
      slaSummary: `Latest: ${latest(sla, fmtPct)} of support SLA targets met.`,
    };
  }, [days, currency]);
  return (
    <div class="charts">
      <ChartFigure name="mrr" title="MRR and paying customers" summary={c.mrrSummary} labels={c.labels} series={c.mrr} format={c.money} y2Format={fmtCount} yMin={0} />
      <ChartFigure name="churn" title="Churn rate" summary={c.churnSummary} labels={c.labels} series={c.churn} format={fmtBp} yMin={0} />
      <ChartFigure name="payment-success" title="Payment success rate" summary={c.successSummary} labels={c.labels} series={c.success} format={fmtBp} />
      <ChartFigure name="revenue" title="Revenue by stream" summary={c.revenueSummary} labels={c.labels} series={c.revenue} format={c.money} yMin={0} />
      <ChartFigure name="marketplace" title="GMV and instructor payouts" summary={c.marketSummary} labels={c.labels} series={c.market} format={c.money} yMin={0} />
      <ChartFigure name="tokens" title="Tokens" summary={c.tokensSummary} labels={c.labels} series={c.tokens} format={fmtCount} yMin={0} />
      <ChartFigure name="enterprise" title="Licenses and seats" summary={c.seatsSummary} labels={c.labels} series={c.seats} format={fmtCount} y2Format={fmtCount} yMin={0} />
      <ChartFigure name="sla" title="Support SLA met" summary={c.slaSummary} labels={c.labels} series={c.sla} format={fmtPct} yMin={0} yMax={100} />
    </div>
  );
}
