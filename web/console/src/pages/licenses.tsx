// #/licenses (admin): enterprise licenses — create one (POST /admin/licenses, confirmed, with an
// Idempotency-Key), the list (GET /admin/licenses, cursor-paged), and for one license
// (#/licenses/<id>): its seats (GET /licenses/{id}/seats, paged), a month's usage
// (GET /licenses/{id}/usage), a change (PATCH /admin/licenses/{id}, which re-issues the key) and
// the key as a file download (a Blob link; the key comes with the admin views of the license).
// The request bodies are built in licenses-body.ts.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, paged, post, request, seg, type PageFetcher } from '../api';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { ActionOutcome, useConfirmedAction } from '../components/ConfirmedAction';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Choices, FormRow, SelectField, TextArea, TextField } from '../components/Field';
import { PagedTable, type Column } from '../components/PagedTable';
import { Count, DateTime } from '../components/Values';
import { useLoad, usePaged } from '../hooks';
import { href } from '../router';
import {
  changeOf, createBody, patchBody, utcDate, type Change, type CreateForm, type Expiration, type License, type Overage,
} from './licenses-body';
import { currentPeriod } from './payouts-period';
import type { PageProps } from './registry';
import '../components/daily-work.css';

interface Seat {
  licenseId: string;
  userId: string;
  email: string;
  via: 'invite' | 'assigned';
  overage: boolean;
  joinedAt: string;
}

interface SeatPage {
  seats: Seat[];
  seatsUsed: number;
  seatsTotal: number;
  nextCursor?: string;
}

interface Usage {
  licenseId: string;
  month: string;
  closed: boolean;
  seats: number;
  seatsAssigned: number;
  peakSeats: number;
  joins: number;
  removals: number;
  overageJoins: number;
  overageSeatDays: number;
  monthlyActiveLearners: number;
  courseEnrolments: number;
  supportTickets: { low: number; normal: number; high: number; urgent: number };
  trueUp: { seats: number; peakSeats: number; overageSeatDays: number; overageJoins: number } | null;
}

const OVERAGE = [
  { value: 'block', label: 'Block joins beyond the seats' },
  { value: 'allow', label: 'Allow and record overage' },
];
const EXPIRATION = [
  { value: 'restrict', label: 'Restrict: keep access, no new seats' },
  { value: 'revoke', label: 'Revoke: entitlements end' },
  { value: 'maintain', label: 'Maintain: everything continues' },
];

/** KeyDownload is a link that saves the license key as a file (a Blob URL, freed when unmounted). */
export function KeyDownload({ license }: { license: License }) {
  const [url, setUrl] = useState('');
  useEffect(() => {
    if (!license.key) return undefined;
    const u = URL.createObjectURL(new Blob([`${license.key}\n`], { type: 'application/jwt' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [license.key]);
  if (!license.key || !url) return null;
  return (
    <a class="button key-download" href={url} download={`${license.id}-v${license.keyVersion ?? 1}.jwt`}
      aria-label={`Download key of ${license.orgName} (version ${license.keyVersion ?? 1})`}>
      Download key
    </a>
  );
}

function CreateLicense({ onCreated }: { onCreated: (l: License) => void }) {
  const [f, setF] = useState<CreateForm>({
    orgName: '', seats: '10', startsAt: utcDate(), expiresAt: utcDate(365),
    overagePolicy: 'block', expirationPolicy: 'restrict', adminEmails: '', timeZone: '',
  });
  const set = (k: keyof CreateForm) => (v: string) => setF((o) => ({ ...o, [k]: v }));
  const create = useConfirmedAction<Record<string, unknown>, License>(
    (body, key) => post<License>('/admin/licenses', body, key),
    (l) => onCreated(l),
  );
  const l = create.result?.value;
  return (
    <form class="card" aria-labelledby="create-license-title"
      onSubmit={(e) => {
        e.preventDefault();
        create.ask(createBody(f));
      }}>
      <h2 id="create-license-title">Create a license</h2>
      <FormRow>
        <TextField label="Organisation name" name="orgName" value={f.orgName} onInput={set('orgName')} required />
        <TextField label="Seats" name="seats" type="number" min="1" inputMode="numeric" value={f.seats} onInput={set('seats')} required />
      </FormRow>
      <FormRow>
        <TextField label="Starts (UTC date)" name="startsAt" type="date" value={f.startsAt} onInput={set('startsAt')} required />
        <TextField label="Expires (UTC date)" name="expiresAt" type="date" value={f.expiresAt} onInput={set('expiresAt')} required />
      </FormRow>
      <FormRow>
        <SelectField label="Overage policy" name="overagePolicy" value={f.overagePolicy} onChange={set('overagePolicy')} options={OVERAGE} />
        <SelectField label="Expiration policy" name="expirationPolicy" value={f.expirationPolicy} onChange={set('expirationPolicy')} options={EXPIRATION} />
      </FormRow>
      <FormRow>
        <TextArea label="Admin e-mails" name="adminEmails" hint="One or more addresses, separated by commas or new lines." rows={2}
          value={f.adminEmails} onInput={set('adminEmails')} required />
        <TextField label="Time zone (optional)" name="timeZone" hint="IANA name for SLA business hours, e.g. Europe/Berlin; empty = UTC."
          value={f.timeZone} onInput={set('timeZone')} />
      </FormRow>
      <div class="actions">
        <button type="submit" class="primary" disabled={create.busy}>
          {create.busy ? 'Creating…' : 'Create license'}
        </button>
      </div>
      <ActionOutcome action={create}>
        {l ? (
          <>
            <p>
              Created license <span class="mono">{l.id}</span> for {l.orgName}: {l.status}, <Count n={l.seats} /> seats,
              key version {l.keyVersion}. Give the key to the organisation's admins.
            </p>
            <p>
              <KeyDownload license={l} /> <a href={href('licenses', l.id)}>Seats and usage</a>
            </p>
          </>
        ) : null}
      </ActionOutcome>
      <ConfirmDialog open={create.asking !== null} title="Create this license?" confirmLabel="Create license"
        onConfirm={create.confirm} onCancel={create.cancel}>
        {create.asking ? (
          <p>
            {String(create.asking.orgName)}: {String(create.asking.seats)} seats from {String(create.asking.startsAt)} to{' '}
            {String(create.asking.expiresAt)}, admins {(create.asking.adminEmails as string[]).join(', ') || '(none)'}. A
            signed key is issued.
          </p>
        ) : null}
      </ConfirmDialog>
    </form>
  );
}

function ChangeLicense({ license, onChanged }: { license: License; onChanged: (l: License) => void }) {
  const [c, setC] = useState<Change>(() => changeOf(license));
  useEffect(() => setC(changeOf(license)), [license]);
  const change = useConfirmedAction<{ id: string; body: Record<string, unknown> }, License>(
    // PATCH takes no Idempotency-Key: sending the same change twice leaves the same state.
    (a) => request<License>('PATCH', `/admin/licenses/${seg(a.id)}`, { body: a.body }),
    (l) => onChanged(l),
  );
  const body = patchBody(license, c);
  const nothing = Object.keys(body).length === 0;
  return (
    <form class="card" aria-labelledby="change-license-title"
      onSubmit={(e) => {
        e.preventDefault();
        change.ask({ id: license.id, body });
      }}>
      <h3 id="change-license-title">Change the license</h3>
      <p class="note">Every change re-issues the key (the previous one stops working).</p>
      <FormRow>
        <TextField label="Seats" name="changeSeats" type="number" min="1" inputMode="numeric" value={c.seats} onInput={(v) => setC({ ...c, seats: v })} />
        <TextField label="Expires (UTC date)" name="changeExpiresAt" type="date" value={c.expiresAt} onInput={(v) => setC({ ...c, expiresAt: v })} />
      </FormRow>
      <FormRow>
        <SelectField label="Overage policy" name="changeOverage" value={c.overagePolicy} onChange={(v) => setC({ ...c, overagePolicy: v as Overage })} options={OVERAGE} />
        <SelectField label="Expiration policy" name="changeExpiration" value={c.expirationPolicy} onChange={(v) => setC({ ...c, expirationPolicy: v as Expiration })} options={EXPIRATION} />
      </FormRow>
      <Choices legend="Suspension" type="checkbox" name="suspended" options={[{ value: 'yes', label: 'Suspended (seat holders lose access)' }]}
        selected={c.suspended ? ['yes'] : []} onChange={(s) => setC({ ...c, suspended: s.includes('yes') })} />
      <div class="actions">
        <button type="submit" class="primary" disabled={change.busy || nothing}>
          Save changes
        </button>
      </div>
      <ActionOutcome action={change}>
        {change.result ? (
          <p>
            Saved. {change.result.value.orgName} is {change.result.value.status} with <Count n={change.result.value.seats} /> seats;
            key re-issued as version {change.result.value.keyVersion}.
          </p>
        ) : null}
      </ActionOutcome>
      <ConfirmDialog open={change.asking !== null} title="Change this license and re-issue its key?" confirmLabel="Save changes"
        danger={change.asking?.body.suspended === true} onConfirm={change.confirm} onCancel={change.cancel}>
        {change.asking ? (
          <ul>
            {Object.entries(change.asking.body).map(([k, v]) => (
              <li key={k}>
                {k}: {String(v)}
              </li>
            ))}
          </ul>
        ) : null}
      </ConfirmDialog>
    </form>
  );
}

function seatsFetcher(id: string, onTotals: (t: { used: number; total: number }) => void): PageFetcher<Seat> {
  return async (cursor, signal) => {
    const b = await get<SeatPage>(`/licenses/${seg(id)}/seats`, { cursor }, signal);
    onTotals({ used: b.seatsUsed, total: b.seatsTotal });
    return { items: b.seats ?? [], nextCursor: b.nextCursor ? b.nextCursor : null };
  };
}

const seatColumns: Column<Seat>[] = [
  { header: 'E-mail', cell: (s) => s.email },
  { header: 'User', cell: (s) => <span class="mono">{s.userId}</span> },
  { header: 'How', cell: (s) => (s.via === 'invite' ? 'Invite' : 'Assigned') },
  { header: 'Overage', cell: (s) => (s.overage ? 'Yes' : 'No') },
  { header: 'Joined', cell: (s) => <DateTime iso={s.joinedAt} /> },
];

function UsageView({ u }: { u: Usage }) {
  const counts: [string, number][] = [
    ['Seats', u.seats],
    ['Seats taken', u.seatsAssigned],
    ['Peak seats', u.peakSeats],
    ['Joins', u.joins],
    ['Removals', u.removals],
    ['Overage joins', u.overageJoins],
    ['Overage seat-days', u.overageSeatDays],
    ['Monthly active learners', u.monthlyActiveLearners],
    ['Course enrolments', u.courseEnrolments],
  ];
  const t = u.supportTickets;
  return (
    <>
      <p>
        {u.month}: {u.closed ? 'closed (true-up written)' : 'open month, live seat count'}.
      </p>
      <dl class="facts">
        {counts.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>
              <Count n={v} />
            </dd>
          </div>
        ))}
        <div>
          <dt>Support tickets</dt>
          <dd>
            low <Count n={t.low} />, normal <Count n={t.normal} />, high <Count n={t.high} />, urgent <Count n={t.urgent} />
          </dd>
        </div>
        {u.trueUp ? (
          <div>
            <dt>True-up</dt>
            <dd>
              <Count n={u.trueUp.seats} /> seats, peak <Count n={u.trueUp.peakSeats} />, <Count n={u.trueUp.overageSeatDays} /> overage
              seat-days, <Count n={u.trueUp.overageJoins} /> overage joins
            </dd>
          </div>
        ) : null}
      </dl>
    </>
  );
}

function LicenseDetail({ id, known, onChanged }: { id: string; known: License | undefined; onChanged: (l: License) => void }) {
  // The list's row has the key; reached by address alone, GET /licenses/{id} has everything else.
  const fetched = useLoad((signal) => get<License>(`/licenses/${seg(id)}`, undefined, signal), [id], !known);
  const license = known ?? fetched.data ?? undefined;
  const [totals, setTotals] = useState<{ used: number; total: number } | null>(null);
  const seats = usePaged(useMemo(() => seatsFetcher(id, setTotals), [id]));
  const [month, setMonth] = useState(currentPeriod());
  const [shownMonth, setShownMonth] = useState(currentPeriod());
  const usage = useLoad((signal) => get<Usage>(`/licenses/${seg(id)}/usage`, { month: shownMonth }, signal), [id, shownMonth]);

  return (
    <section class="card license-detail" aria-labelledby="license-detail-title">
      <h2 id="license-detail-title">{license ? license.orgName : 'License'} <span class="mono small">{id}</span></h2>
      <ApiErrorAlert error={fetched.error} />
      {license ? (
        <>
          <dl class="facts">
            <div><dt>Status</dt><dd><span class={`badge badge-${license.status}`}>{license.status}</span>{license.suspended ? ' (suspended)' : ''}</dd></div>
            <div><dt>Seats used</dt><dd><Count n={license.seatsUsed} /> of <Count n={license.seats} />{license.overageSeats ? <> (+<Count n={license.overageSeats} /> overage)</> : null}</dd></div>
            <div><dt>Term</dt><dd><DateTime iso={license.startsAt} /> – <DateTime iso={license.expiresAt} /></dd></div>
            <div><dt>Policies</dt><dd>overage {license.overagePolicy}, at expiry {license.expirationPolicy}</dd></div>
            <div><dt>Activated</dt><dd><DateTime iso={license.activatedAt} /></dd></div>
            {license.adminEmails ? <div><dt>Admins</dt><dd>{license.adminEmails.join(', ')}</dd></div> : null}
          </dl>
          <p>
            {license.key ? <KeyDownload license={license} /> : <span class="note">The key is offered from the list of licenses.</span>}
          </p>
        </>
      ) : null}

      <h3>Seats</h3>
      {totals ? (
        <p>
          <Count n={totals.used} /> of <Count n={totals.total} /> seats taken.
        </p>
      ) : null}
      <PagedTable caption="Seat holders" columns={seatColumns} paged={seats} rowKey={(s) => s.userId} empty="No seats taken yet." />

      <h3>Usage</h3>
      <form class="inline-form" aria-label="Usage month"
        onSubmit={(e) => {
          e.preventDefault();
          setShownMonth(month.trim());
        }}>
        <FormRow>
          <TextField label="Month" name="usageMonth" hint="YYYY-MM" value={month} onInput={setMonth} />
        </FormRow>
        <button type="submit">Show usage</button>
      </form>
      <ApiErrorAlert error={usage.error} />
      {usage.loading ? <p class="loading">Loading…</p> : null}
      {usage.data && !usage.error ? <UsageView u={usage.data} /> : null}

      {license && license.keyVersion !== undefined ? (
        <ChangeLicense
          license={license}
          onChanged={(l) => {
            // Seats and usage both report the seat count: read them again.
            seats.reload();
            usage.reload();
            onChanged(l);
          }}
        />
      ) : null}
      <p>
        <a href={href('licenses')}>Back to all licenses</a>
      </p>
    </section>
  );
}

export function LicensesPage({ route }: PageProps) {
  const selected = route.rest[0] ?? '';
  const fetcher = useMemo(() => paged<License>('/admin/licenses', 'licenses'), []);
  const list = usePaged(fetcher);
  const replace = (l: License) => list.update((items) => (items.some((x) => x.id === l.id) ? items.map((x) => (x.id === l.id ? l : x)) : [l, ...items]));

  const columns: Column<License>[] = [
    { header: 'Organisation', cell: (l) => <>{l.orgName}<br /><span class="mono small">{l.id}</span></> },
    { header: 'Status', cell: (l) => <span class={`badge badge-${l.status}`}>{l.status}</span> },
    { header: 'Seats used', className: 'num', cell: (l) => <><Count n={l.seatsUsed} /> / <Count n={l.seats} /></> },
    { header: 'Expires', cell: (l) => <DateTime iso={l.expiresAt} /> },
    { header: 'Key', cell: (l) => <>v{l.keyVersion} <KeyDownload license={l} /></> },
    {
      header: 'Details',
      cell: (l) => (
        <a href={href('licenses', l.id)} aria-label={`Seats and usage of ${l.orgName}`}>
          Seats and usage
        </a>
      ),
    },
  ];

  return (
    <>
      <h1>Licenses</h1>
      {selected ? (
        <LicenseDetail key={selected} id={selected} known={list.items.find((l) => l.id === selected)} onChanged={replace} />
      ) : (
        <CreateLicense
          onCreated={(l) => {
            replace(l);
          }}
        />
      )}
      <PagedTable caption="Enterprise licenses, newest first" columns={columns} paged={list} rowKey={(l) => l.id} empty="No licenses yet." />
      {selected ? null : (
        <p class="note">
          Choose “Seats and usage” for a license’s seat holders, monthly usage and changes.{' '}
          <button type="button" class="link" onClick={() => list.reload()}>
            Refresh the list
          </button>
        </p>
      )}
    </>
  );
}
