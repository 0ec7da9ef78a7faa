// #/payouts (admin): run a period's instructor payouts (POST /admin/payouts/run, confirmed, with an
// Idempotency-Key) and see each instructor's payout of a period by status, failures included
// (GET /admin/payouts, cursor-paged).
import { useMemo, useState } from 'preact/hooks';
import { paged, post } from '../api';
import { ActionOutcome, useConfirmedAction } from '../components/ConfirmedAction';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { FormRow, SelectField, TextField } from '../components/Field';
import { PagedTable, type Column } from '../components/PagedTable';
import { Count, DateTime, Money } from '../components/Values';
import { usePaged } from '../hooks';
import { currentPeriod, PERIOD } from './payouts-period';
import type { PageProps } from './registry';
import type { Payout } from '../types';
import '../components/daily-work.css';

interface RunAnswer {
  period: string;
  queued: number;
}

const CARRY_REASONS: Record<string, string> = {
  negative_balance: 'negative balance',
  nothing_available: 'nothing available',
  below_minimum: 'below the minimum payout',
  no_connect_account: 'no Stripe account',
  payouts_not_enabled: 'payouts not enabled at Stripe',
};

const STATUS_OPTIONS = [
  { value: '', label: 'Any status' },
  { value: 'failed', label: 'Failed' },
  { value: 'transferring', label: 'Transferring' },
  { value: 'paid', label: 'Paid' },
  { value: 'carried', label: 'Carried over' },
];

/** What went wrong or why nothing was paid, in words. */
function outcome(p: Payout) {
  if (p.status === 'failed') return <span class="payout-failure">Failed{p.failureCode ? `: ${p.failureCode}` : ''}</span>;
  if (p.status === 'carried') return <>Carried over{p.carryReason ? `: ${CARRY_REASONS[p.carryReason] ?? p.carryReason}` : ''}</>;
  if (p.transferId) return <span class="mono">{p.transferId}</span>;
  return '—';
}

const columns: Column<Payout>[] = [
  { header: 'Instructor', cell: (p) => <span class="mono">{p.instructorId}</span> },
  { header: 'Status', cell: (p) => <span class={`badge badge-${p.status}`}>{p.status}</span> },
  { header: 'Amount', className: 'num', cell: (p) => <Money cents={p.amountCents} currency={p.currency} /> },
  { header: 'Available when decided', className: 'num', cell: (p) => <Money cents={p.availableCents} currency={p.currency} /> },
  { header: 'Transfer or reason', cell: outcome },
  { header: 'Decided', cell: (p) => <DateTime iso={p.createdAt} /> },
  { header: 'Paid', cell: (p) => <DateTime iso={p.paidAt} /> },
];

export function PayoutsPage({ route }: PageProps) {
  const initial = route.params.get('period') ?? currentPeriod();
  // The filters being edited, and the ones the list shows (applied with "Show payouts").
  const [period, setPeriod] = useState(initial);
  const [status, setStatus] = useState(route.params.get('status') ?? '');
  const [shown, setShown] = useState({ period: initial, status: route.params.get('status') ?? '' });
  const [runPeriod, setRunPeriod] = useState(currentPeriod());

  const fetcher = useMemo(
    () => paged<Payout>('/admin/payouts', 'payouts', { period: shown.period, status: shown.status }),
    [shown.period, shown.status],
  );
  const list = usePaged(fetcher);

  const run = useConfirmedAction<{ period: string }, RunAnswer>(
    (a, key) => post<RunAnswer>('/admin/payouts/run', { period: a.period }, key),
    // Show the period just run (the queue pays asynchronously: "Refresh" shows progress).
    (r) => {
      setPeriod(r.period);
      setShown((s) => (s.period === r.period ? s : { ...s, period: r.period }));
      list.reload();
    },
  );

  return (
    <>
      <h1>Payouts</h1>

      <form
        class="card"
        aria-labelledby="run-payouts-title"
        onSubmit={(e) => {
          e.preventDefault();
          run.ask({ period: runPeriod.trim() });
        }}
      >
        <h2 id="run-payouts-title">Run a period</h2>
        <p class="note">
          Queues one payout per instructor with released earnings, as the monthly schedule does. Each instructor is
          paid at most once per period, however often it runs.
        </p>
        <FormRow>
          <TextField label="Period to run" name="runPeriod" hint="YYYY-MM" value={runPeriod} onInput={setRunPeriod} required />
        </FormRow>
        <div class="actions">
          <button type="submit" class="primary" disabled={run.busy}>
            {run.busy ? 'Running…' : 'Run payouts'}
          </button>
        </div>
        <ActionOutcome action={run}>
          {run.result ? (
            <p>
              Queued <Count n={run.result.value.queued} /> payout{run.result.value.queued === 1 ? '' : 's'} for{' '}
              {run.result.value.period}. Instructors already paid this period are not paid again; transfers finish in
              the background (use Refresh below).
            </p>
          ) : null}
        </ActionOutcome>
      </form>

      <ConfirmDialog
        open={run.asking !== null}
        title={`Run payouts for ${run.asking?.period ?? ''}?`}
        confirmLabel="Run payouts"
        onConfirm={run.confirm}
        onCancel={run.cancel}
      >
        <p>
          This transfers every instructor's released earnings for {run.asking?.period} to their Stripe account.
          {run.asking && !PERIOD.test(run.asking.period) ? ' (This does not look like a YYYY-MM period; the API will say.)' : ''}
        </p>
      </ConfirmDialog>

      <section aria-labelledby="payouts-list-title">
        <h2 id="payouts-list-title">Instructor payouts</h2>
        <form
          class="card"
          aria-label="Filter payouts"
          onSubmit={(e) => {
            e.preventDefault();
            setShown({ period: period.trim(), status });
          }}
        >
          <FormRow>
            <TextField label="Period" name="period" hint="YYYY-MM" value={period} onInput={setPeriod} />
            <SelectField label="Status" name="status" value={status} onChange={setStatus} options={STATUS_OPTIONS} />
          </FormRow>
          <div class="actions">
            <button type="button" onClick={list.reload}>
              Refresh
            </button>
            <button type="submit" class="primary">
              Show payouts
            </button>
          </div>
        </form>
        <PagedTable
          caption={`Payouts of ${shown.period || 'this month'}${shown.status ? ` (${shown.status})` : ''}`}
          columns={columns}
          paged={list}
          rowKey={(p) => p.id}
          empty="No payouts in this period and status."
        />
      </section>
    </>
  );
}
