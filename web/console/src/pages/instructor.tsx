// #/instructor (instructor group): the caller's earnings, sales and payouts from /instructors/me/*.
import { useMemo } from 'preact/hooks';
import { get, paged } from '../api';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { Metric, Tiles } from '../components/Metric';
import { PagedTable, type Column } from '../components/PagedTable';
import { DateTime, Money } from '../components/Values';
import { formatDateTime, formatMoney } from '../components/format';
import { useLoad, usePaged } from '../hooks';
import type { Earnings, Payout, Sale } from '../types';
import type { PageProps } from './registry';

const saleColumns: Column<Sale>[] = [
  { header: 'Sold', cell: (s) => <DateTime iso={s.soldAt} /> },
  { header: 'Course', cell: (s) => s.courseTitle },
  { header: 'Price', className: 'num', cell: (s) => <Money cents={s.amountCents} currency={s.currency} /> },
  { header: 'Your share', className: 'num', cell: (s) => <Money cents={s.instructorShareCents} currency={s.currency} /> },
  { header: 'Refunded', className: 'num', cell: (s) => <Money cents={s.refundedCents} currency={s.currency} /> },
  { header: 'Your net', className: 'num', cell: (s) => <Money cents={s.instructorNetCents} currency={s.currency} /> },
  { header: 'Status', cell: (s) => <span class="badge">{s.status.replace(/_/g, ' ')}</span> },
  { header: 'Available from', cell: (s) => <DateTime iso={s.releaseAt} /> },
];

const payoutColumns: Column<Payout>[] = [
  { header: 'Period', cell: (p) => p.period },
  { header: 'Status', cell: (p) => <span class="badge">{p.status}</span> },
  { header: 'Amount', className: 'num', cell: (p) => <Money cents={p.amountCents} currency={p.currency} /> },
  { header: 'Available then', className: 'num', cell: (p) => <Money cents={p.availableCents} currency={p.currency} /> },
  {
    header: 'Why / failure',
    cell: (p) => (p.carryReason ? p.carryReason.replace(/_/g, ' ') : p.failureCode ? `failed: ${p.failureCode}` : '—'),
  },
  { header: 'Transfer', cell: (p) => (p.transferId ? <span class="mono">{p.transferId}</span> : '—') },
  { header: 'Paid', cell: (p) => <DateTime iso={p.paidAt} /> },
];

export function InstructorPage(_: PageProps) {
  const earnings = useLoad((signal) => get<Earnings>('/instructors/me/earnings', undefined, signal), []);
  const salesFetcher = useMemo(() => paged<Sale>('/instructors/me/sales', 'sales'), []);
  const payoutsFetcher = useMemo(() => paged<Payout>('/instructors/me/payouts', 'payouts'), []);
  const sales = usePaged(salesFetcher);
  const payouts = usePaged(payoutsFetcher);
  const e = earnings.data;
  return (
    <>
      <h1>Instructor</h1>
      <ApiErrorAlert error={earnings.error} />
      {earnings.loading ? <p class="loading">Loading earnings…</p> : null}
      {e ? (
        <>
          <Tiles label="Earnings">
            <Metric metricName={null} label="Balance" doc={e} path="balanceCents" kind="money" currency={e.currency} />
            <Metric metricName={null} label="Pending (refund window)" doc={e} path="pendingCents" kind="money" currency={e.currency}
              note={e.nextReleaseAt ? `next release ${formatDateTime(e.nextReleaseAt)}` : undefined} />
            <Metric metricName={null} label="Available" doc={e} path="availableCents" kind="money" currency={e.currency} />
            <Metric metricName={null} label="Held (disputes)" doc={e} path="heldCents" kind="money" currency={e.currency} />
            <Metric metricName={null} label="Paid so far" doc={e} path="paidCents" kind="money" currency={e.currency} />
          </Tiles>
          <p class="note">
            Next payout {formatDateTime(e.nextPayoutAt)} for an available balance of at least{' '}
            {formatMoney(e.payoutMinimumCents, e.currency)}.{' '}
            {e.payoutsEnabled ? 'Payouts are enabled.' : <strong>Payouts are not enabled yet: finish Stripe onboarding.</strong>}
          </p>
        </>
      ) : null}
      <h2>Sales</h2>
      <PagedTable caption="Your sales, newest first" columns={saleColumns} paged={sales} rowKey={(s) => s.id} empty="No sales yet." />
      <h2>Payouts</h2>
      <PagedTable caption="Your payouts, newest first" columns={payoutColumns} paged={payouts} rowKey={(p) => p.id} empty="No payouts yet." />
    </>
  );
}
