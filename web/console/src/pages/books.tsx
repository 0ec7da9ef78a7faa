// #/books (admin): the trial balance as of a day, a month's statement, and one account's
// postings (paged) — GET /admin/books/trial-balance, /statement, /accounts/{account}/entries.
import { useMemo, useState } from 'preact/hooks';
import { get, paged, seg } from '../api';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { SelectField, TextField } from '../components/Field';
import { FilterForm } from '../components/FilterForm';
import { PagedTable, type Column } from '../components/PagedTable';
import { TableWrap } from '../components/TableWrap';
import { Tabs } from '../components/Tabs';
import { DateTime, Money } from '../components/Values';
import { useLoad, usePaged } from '../hooks';
import { BOOKS_ACCOUNTS, type Movement, type Posting, type Statement, type TrialBalance } from '../types';
import type { PageProps } from './registry';

const TABS = [
  { name: 'trial-balance', title: 'Trial balance' },
  { name: 'statement', title: 'Statement' },
  { name: 'entries', title: 'Account entries' },
];

export function BooksPage({ route }: PageProps) {
  const tab = TABS.some((t) => t.name === route.rest[0]) ? route.rest[0]! : 'trial-balance';
  return (
    <>
      <h1>Books</h1>
      <Tabs page="books" tabs={TABS} current={tab} label="Books views" />
      {tab === 'trial-balance' ? <TrialBalanceView /> : null}
      {tab === 'statement' ? <StatementView /> : null}
      {tab === 'entries' ? <EntriesView initialAccount={route.params.get('account') ?? ''} /> : null}
    </>
  );
}

function Busy({ loading }: { loading: boolean }) {
  return loading ? <p class="loading">Loading…</p> : null;
}

function TrialBalanceView() {
  const [date, setDate] = useState('');
  const [applied, setApplied] = useState('');
  const tb = useLoad((signal) => get<TrialBalance>('/admin/books/trial-balance', { date: applied }, signal), [applied]);
  return (
    <section aria-labelledby="tb-title">
      <h2 id="tb-title">Trial balance</h2>
      <FilterForm label="Trial balance date" applyLabel="Show" onApply={() => setApplied(date)}>
        <TextField label="As of (UTC day, default today)" name="date" type="date" value={date} onInput={setDate} />
      </FilterForm>
      <ApiErrorAlert error={tb.error} />
      <Busy loading={tb.loading} />
      {tb.data ? (
        <>
          <p>
            As of {tb.data.asOf}: {tb.data.balanced ? 'the books balance.' : <strong>the books do not balance.</strong>}
          </p>
          {tb.data.currencies.length === 0 ? <p class="empty">No entries yet.</p> : null}
          {tb.data.currencies.map((c) => (
            <TableWrap label={`Trial balance ${c.currency.toUpperCase()}`} key={c.currency}>
              <table>
                <caption>
                  {c.currency.toUpperCase()} — debits <Money cents={c.debits} currency={c.currency} />, credits{' '}
                  <Money cents={c.credits} currency={c.currency} />
                  {c.balanced ? '' : ' (unbalanced)'}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Account</th>
                    <th scope="col">Type</th>
                    <th scope="col" class="num">Debits</th>
                    <th scope="col" class="num">Credits</th>
                    <th scope="col" class="num">Balance</th>
                  </tr>
                </thead>
                <tbody>
                  {c.accounts.map((a) => (
                    <tr key={a.account}>
                      <th scope="row">
                        <a href={`#/books/entries?account=${encodeURIComponent(a.account)}`}>{a.name}</a>{' '}
                        <span class="mono">({a.account})</span>
                      </th>
                      <td>{a.type}, {a.normalSide}</td>
                      <td class="num"><Money cents={a.debits} currency={c.currency} /></td>
                      <td class="num"><Money cents={a.credits} currency={c.currency} /></td>
                      <td class="num"><Money cents={a.balance} currency={c.currency} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          ))}
        </>
      ) : null}
    </section>
  );
}

function currentMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

function MovementRow({ m, label, currency }: { m: Movement; label: string; currency: string }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      <td class="num"><Money cents={m.opening} currency={currency} /></td>
      <td class="num"><Money cents={m.increases} currency={currency} /></td>
      <td class="num"><Money cents={m.decreases} currency={currency} /></td>
      <td class="num"><Money cents={m.closing} currency={currency} /></td>
    </tr>
  );
}

function StatementView() {
  const [month, setMonth] = useState(currentMonth());
  const [applied, setApplied] = useState(currentMonth());
  const st = useLoad((signal) => get<Statement>('/admin/books/statement', { month: applied }, signal), [applied]);
  return (
    <section aria-labelledby="st-title">
      <h2 id="st-title">Statement</h2>
      <FilterForm label="Statement month" applyLabel="Show" onApply={() => setApplied(month)}>
        <TextField label="Month (YYYY-MM)" name="month" type="month" value={month} onInput={setMonth} pattern="[0-9]{4}-[0-9]{2}" />
      </FilterForm>
      <ApiErrorAlert error={st.error} />
      <Busy loading={st.loading} />
      {st.data ? (
        <>
          <p>
            {st.data.month}: {st.data.closed ? 'closed.' : <strong>open</strong>} {st.data.note ?? ''}
          </p>
          {st.data.currencies.length === 0 ? <p class="empty">Nothing was booked this month.</p> : null}
          {st.data.currencies.map((c) => (
            <div key={c.currency}>
              <TableWrap label={`Revenue by stream ${c.currency.toUpperCase()}`}>
                <table>
                  <caption>{c.currency.toUpperCase()} revenue by stream</caption>
                  <thead>
                    <tr>
                      <th scope="col">Stream</th>
                      <th scope="col" class="num">Gross</th>
                      <th scope="col" class="num">Refunds</th>
                      <th scope="col" class="num">Disputes</th>
                      <th scope="col" class="num">Net</th>
                    </tr>
                  </thead>
                  <tbody>
                    {c.streams.map((s) => (
                      <tr key={s.stream}>
                        <th scope="row">{s.stream === 'subscriptions' ? 'Subscriptions' : 'Marketplace commission'}</th>
                        <td class="num"><Money cents={s.gross} currency={c.currency} /></td>
                        <td class="num"><Money cents={s.refunds} currency={c.currency} /></td>
                        <td class="num"><Money cents={s.disputes} currency={c.currency} /></td>
                        <td class="num"><Money cents={s.net} currency={c.currency} /></td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
              <dl class="summary">
                <dt>Net revenue</dt><dd><Money cents={c.netRevenue} currency={c.currency} /></dd>
                <dt>Stripe processing fees</dt><dd><Money cents={c.stripeFees} currency={c.currency} /></dd>
                <dt>Dispute fees</dt><dd><Money cents={c.disputeFees} currency={c.currency} /></dd>
                <dt>Net after fees</dt><dd><Money cents={c.netAfterFees} currency={c.currency} /></dd>
                <dt>Token-funded discounts</dt><dd><Money cents={c.tokenDiscounts} currency={c.currency} /></dd>
              </dl>
              <TableWrap label={`Instructor payable ${c.currency.toUpperCase()}`}>
                <table>
                  <caption>{c.currency.toUpperCase()} instructor payable and customer credit</caption>
                  <thead>
                    <tr>
                      <th scope="col">Account</th>
                      <th scope="col" class="num">Opening</th>
                      <th scope="col" class="num">Increases</th>
                      <th scope="col" class="num">Decreases</th>
                      <th scope="col" class="num">Closing</th>
                    </tr>
                  </thead>
                  <tbody>
                    <tr>
                      <th scope="row">Instructor payable (paid out <Money cents={c.instructorPayable.paidOut} currency={c.currency} />)</th>
                      <td class="num"><Money cents={c.instructorPayable.opening} currency={c.currency} /></td>
                      <td class="num"><Money cents={c.instructorPayable.credited} currency={c.currency} /></td>
                      <td class="num"><Money cents={c.instructorPayable.debited} currency={c.currency} /></td>
                      <td class="num"><Money cents={c.instructorPayable.closing} currency={c.currency} /></td>
                    </tr>
                    {c.instructorPayable.buckets.map((b) => (
                      <MovementRow key={b.account} m={b} label={b.account.replace(/_/g, ' ')} currency={c.currency} />
                    ))}
                    <MovementRow m={c.customerCredit} label="customer credit" currency={c.currency} />
                  </tbody>
                </table>
              </TableWrap>
            </div>
          ))}
        </>
      ) : null}
    </section>
  );
}

const postingColumns: Column<Posting>[] = [
  { header: 'Date', cell: (p) => p.date },
  { header: 'Entry', cell: (p) => <span class="mono">{p.entryId}#{p.line}</span> },
  { header: 'Kind', cell: (p) => `${p.kind} (${p.area})` },
  { header: 'Debit', className: 'num', cell: (p) => (p.debit ? <Money cents={p.debit} currency={p.currency} /> : '') },
  { header: 'Credit', className: 'num', cell: (p) => (p.credit ? <Money cents={p.credit} currency={p.currency} /> : '') },
  { header: 'Source', cell: (p) => <span class="mono">{p.source}</span> },
  { header: 'Party / memo', cell: (p) => [p.party, p.memo].filter(Boolean).join(' — ') || '—' },
  { header: 'Time', cell: (p) => <DateTime iso={p.time} /> },
];

function EntriesView({ initialAccount }: { initialAccount: string }) {
  const start = { account: initialAccount || BOOKS_ACCOUNTS[0], from: '', to: '' };
  const [form, setForm] = useState(start);
  const [applied, setApplied] = useState(start);
  const fetcher = useMemo(
    () => paged<Posting>(`/admin/books/accounts/${seg(applied.account)}/entries`, 'postings', { from: applied.from, to: applied.to }),
    [applied],
  );
  const list = usePaged(fetcher);
  return (
    <section aria-labelledby="en-title">
      <h2 id="en-title">Account entries</h2>
      <FilterForm label="Account and dates" applyLabel="Show entries" onApply={() => setApplied({ ...form })}>
        <SelectField
          label="Account"
          name="account"
          value={form.account}
          onChange={(v) => setForm((f) => ({ ...f, account: v }))}
          options={BOOKS_ACCOUNTS.map((a) => ({ value: a, label: a }))}
        />
        <TextField label="From (default: this month's 1st)" name="from" type="date" value={form.from} onInput={(v) => setForm((f) => ({ ...f, from: v }))} />
        <TextField label="To (exclusive, default: tomorrow)" name="to" type="date" value={form.to} onInput={(v) => setForm((f) => ({ ...f, to: v }))} />
      </FilterForm>
      <PagedTable
        caption={`Postings of ${applied.account}, oldest first`}
        columns={postingColumns}
        paged={list}
        rowKey={(p) => `${p.entryId}#${p.line}`}
        empty="No postings in this range."
      />
    </section>
  );
}
