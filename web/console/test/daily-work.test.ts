// Unit tests of the pure rules behind engineer F2's pages (payouts, redemptions, licenses,
// support), run by Node's own test runner like test/unit.test.ts: `npm test`. The pages
// themselves are exercised in headless Chromium by infra/local/browser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RetryKeys } from '../src/components/retry-keys.ts';
import {
  changeOf, createBody, dayStart, emails, intOrText, patchBody, utcDate, type License,
} from '../src/pages/licenses-body.ts';
import { currentPeriod, PERIOD } from '../src/pages/payouts-period.ts';
import { clock, span, type SLATarget } from '../src/pages/support-sla.ts';

const NOW = Date.parse('2026-12-07T10:00:00Z');
const target = (t: Partial<SLATarget>): SLATarget => ({ status: 'running', targetMinutes: 60, elapsedMinutes: 0, dueAt: null, ...t });
const at = (ms: number) => new Date(NOW + ms).toISOString();

test('span words durations as the queue shows them', () => {
  assert.equal(span(0), '0 s');
  assert.equal(span(45_000), '45 s');
  assert.equal(span(-45_000), '45 s'); // the sign is the caller's ("left" / "ago")
  assert.equal(span(12 * 60_000 + 59_000), '12 min'); // whole minutes, never rounded up
  assert.equal(span(3_600_000), '1 h');
  assert.equal(span(72 * 60_000), '1 h 12 min');
  assert.equal(span((27 * 60 + 5) * 60_000), '1 d 3 h');
  assert.equal(span(48 * 3_600_000), '2 d');
});

test('a running target counts down to its due time, then reads breached', () => {
  const t = target({ dueAt: at(72 * 60_000) });
  assert.deepEqual(clock(t, NOW), { text: '1 h 12 min left', state: 'running', secondsLeft: 4320 });
  // One second later the seconds left go down by one: the <time> element's live value.
  assert.equal(clock(t, NOW + 1000).secondsLeft, 4319);
  // Under an hour left is flagged as soon (colour), the words stay the same kind.
  assert.deepEqual(clock(t, NOW + 13 * 60_000), { text: '59 min left', state: 'soon', secondsLeft: 3540 });
  // Past due before the server's check marked it: the clock says so at once.
  assert.deepEqual(clock(t, NOW + 77 * 60_000), { text: 'breached 5 min ago', state: 'breached', secondsLeft: -300 });
});

test('breached, met, paused and no target', () => {
  assert.equal(clock(target({ status: 'breached', dueAt: at(-5 * 60_000) }), NOW).text, 'breached 5 min ago');
  assert.equal(clock(target({ status: 'breached', dueAt: null }), NOW).text, 'breached');
  // The server says breached even if our clock is a little behind: never "left" on a breached target.
  assert.equal(clock(target({ status: 'breached', dueAt: at(30_000) }), NOW).text, 'breached 0 s ago');
  assert.deepEqual(clock(target({ status: 'met', dueAt: at(60_000) }), NOW), { text: 'met', state: 'met', secondsLeft: null });
  assert.equal(clock(target({ status: 'paused', targetMinutes: 480, elapsedMinutes: 75 }), NOW).text, 'paused, 1 h 15 min of 8 h used');
  assert.deepEqual(clock(target({ status: 'none', targetMinutes: 0 }), NOW), { text: 'no target', state: 'none', secondsLeft: null });
  // Running without a due time: what is left of the target, not counting.
  assert.equal(clock(target({ targetMinutes: 60, elapsedMinutes: 20 }), NOW).text, '40 min left');
  assert.equal(clock(target({ targetMinutes: 60, elapsedMinutes: 60 }), NOW).text, 'breached');
});

test('an idempotency key is kept while the same action is retried, and only then', () => {
  let n = 0;
  const keys = new RetryKeys(() => `k${++n}`);
  const run = { op: 'reject', id: 'rdm_1', reason: 'duplicate' };
  assert.equal(keys.keyFor(run), 'k1');
  assert.equal(keys.keyFor({ ...run }), 'k1', 'a retry of the same failed action reuses its key');
  assert.equal(keys.keyFor({ ...run, reason: 'other reason' }), 'k2', 'another body is another action');
  assert.equal(keys.keyFor(run), 'k3', 'going back to the first action after another is a new attempt');
  keys.succeeded();
  assert.equal(keys.keyFor(run), 'k4', 'after a success the same action again is a new one');
});

test('payout periods are UTC calendar months', () => {
  assert.equal(currentPeriod(new Date('2026-12-31T23:59:59Z')), '2026-12');
  assert.equal(currentPeriod(new Date('2027-01-01T00:00:00Z')), '2027-01');
  assert.ok(PERIOD.test('2026-09'));
  assert.ok(!PERIOD.test('2026-13'));
  assert.ok(!PERIOD.test('2026-9'));
});

test('the create-license body: dates at UTC midnight, addresses split, numbers only when whole', () => {
  assert.equal(utcDate(0, NOW), '2026-12-07');
  assert.equal(utcDate(365, NOW), '2027-12-07');
  assert.equal(dayStart('2026-12-07'), '2026-12-07T00:00:00Z');
  assert.equal(dayStart('7/12/2026'), '7/12/2026', 'passed on as typed: the API names the bad field');
  assert.equal(intOrText(' 12 '), 12);
  assert.equal(intOrText('1.5'), '1.5');
  assert.deepEqual(emails('a@x.org, b@x.org;\nc@x.org  '), ['a@x.org', 'b@x.org', 'c@x.org']);
  const body = createBody({
    orgName: '  Acme  ', seats: '25', startsAt: '2026-12-07', expiresAt: '2027-12-07', overagePolicy: 'allow',
    expirationPolicy: 'revoke', adminEmails: 'boss@acme.test', timeZone: ' ',
  });
  assert.deepEqual(body, {
    orgName: 'Acme', seats: 25, startsAt: '2026-12-07T00:00:00Z', expiresAt: '2027-12-07T00:00:00Z',
    overagePolicy: 'allow', expirationPolicy: 'revoke', adminEmails: ['boss@acme.test'],
  });
  assert.equal(createBody({ ...emptyCreate, timeZone: 'Europe/Berlin' }).timeZone, 'Europe/Berlin');
});

const emptyCreate = {
  orgName: '', seats: '', startsAt: '', expiresAt: '', overagePolicy: 'block' as const, expirationPolicy: 'restrict' as const,
  adminEmails: '', timeZone: '',
};

test('a license change sends only what changed (each PATCH re-issues the key)', () => {
  const lic: License = {
    id: 'lic_1', orgId: 'org_1', orgName: 'Acme', status: 'active', suspended: false, seats: 10, seatsUsed: 4,
    overageSeats: 0, startsAt: '2026-11-07T00:00:00Z', expiresAt: '2027-12-07T00:00:00Z', overagePolicy: 'block',
    expirationPolicy: 'restrict', timeZone: 'UTC', features: [], activatedAt: null, keyVersion: 1,
  };
  const same = changeOf(lic);
  assert.deepEqual(patchBody(lic, same), {}, 'nothing changed: nothing to save');
  assert.deepEqual(patchBody(lic, { ...same, seats: '12' }), { seats: 12 });
  assert.deepEqual(patchBody(lic, { ...same, suspended: true, expiresAt: '2028-01-31' }), {
    suspended: true, expiresAt: '2028-01-31T00:00:00Z',
  });
  assert.deepEqual(patchBody(lic, { ...same, overagePolicy: 'allow', expirationPolicy: 'maintain' }), {
    overagePolicy: 'allow', expirationPolicy: 'maintain',
  });
});
