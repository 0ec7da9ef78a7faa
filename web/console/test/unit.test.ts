// Unit tests of the console's pure modules, run by Node's own test runner on the TypeScript
// sources (Node strips the types): `npm test`. Browser behaviour is tested from Go with chromedp
// (infra/local/browser); these pin the rules the browser tests also rely on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../src/config.ts';
import { historyRange } from '../src/dates.ts';
import { ApiError } from '../src/errors.ts';
import {
  dataValue, formatBasisPoints, formatCount, formatMoney, formatPercent, lookup, NULL_TEXT,
} from '../src/components/format.ts';
import { fractionDigits, parseAmount } from '../src/money.ts';
import { sessionFromToken } from '../src/token.ts';

test('money: en-US with the currency of the response, minor units', () => {
  assert.equal(formatMoney(123456, 'usd'), '$1,234.56');
  assert.equal(formatMoney(0, 'usd'), '$0.00');
  assert.equal(formatMoney(-250, 'usd'), '-$2.50');
  assert.equal(formatMoney(1500, 'eur'), '€15.00');
  assert.equal(formatMoney(1500, 'jpy'), '¥1,500'); // no minor unit: 1500 yen, not 15
  assert.equal(formatMoney(null, 'usd'), NULL_TEXT);
});

test('counts, basis points and percents', () => {
  assert.equal(formatCount(1234), '1,234');
  assert.equal(formatCount(null), '—');
  assert.equal(formatBasisPoints(9990), '99.90%');
  assert.equal(formatBasisPoints(10000), '100.00%');
  assert.equal(formatBasisPoints(5), '0.05%');
  assert.equal(formatBasisPoints(null), '—');
  assert.equal(formatPercent(94.7), '94.70%');
  assert.equal(formatPercent(undefined), '—');
});

test('data-value is the raw JSON value, empty for null', () => {
  assert.equal(dataValue(1234), '1234');
  assert.equal(dataValue(null), '');
  assert.equal(dataValue(undefined), '');
  assert.equal(dataValue(94.7), '94.7');
});

test('lookup follows a dotted path', () => {
  const doc = { churn: { rateBasisPoints: 120 }, tokens: { issued: 0 }, support: { slaMetPercent: null } };
  assert.equal(lookup(doc, 'churn.rateBasisPoints'), 120);
  assert.equal(lookup(doc, 'tokens.issued'), 0);
  assert.equal(lookup(doc, 'support.slaMetPercent'), null);
  assert.equal(lookup(doc, 'missing.path'), undefined);
});

test('refund amounts: major units to minor, empty is the remainder, never capped here', () => {
  assert.equal(parseAmount(''), null);
  assert.equal(parseAmount('  '), null);
  assert.equal(parseAmount('12'), 1200);
  assert.equal(parseAmount('12.5'), 1250);
  assert.equal(parseAmount('12.34'), 1234);
  assert.equal(parseAmount('0.01'), 1);
  assert.equal(parseAmount('9999.00'), 999900); // more than any payment: the API answers 422, not the form
  for (const bad of ['0', '0.00', '-1', '1.234', '1,00', 'abc', '1e3', '.5']) {
    assert.equal(parseAmount(bad), 'invalid', bad);
  }
  assert.equal(parseAmount('1500', fractionDigits('jpy')), 1500);
  assert.equal(parseAmount('15.5', fractionDigits('jpy')), 'invalid');
  assert.equal(fractionDigits('usd'), 2);
});

test('history range: the 90 UTC days ending today, inclusive', () => {
  assert.deepEqual(historyRange(new Date('2026-12-07T23:59:59Z')), { from: '2026-09-09', to: '2026-12-07' });
  assert.deepEqual(historyRange(new Date('2026-03-01T00:00:00Z')), { from: '2025-12-02', to: '2026-03-01' });
});

function jwt(claims: object): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'RS256', typ: 'JWT' })}.${enc(claims)}.c2ln`;
}

test('session from an ID token: sub, email, known cognito:groups, expiry', () => {
  const s = sessionFromToken(jwt({ sub: 'u1', email: 'ä@b.c', exp: 2_000_000_000, 'cognito:groups': ['support', 'other', 'admin'] }));
  assert.ok(s);
  assert.equal(s.sub, 'u1');
  assert.equal(s.email, 'ä@b.c'); // UTF-8 in the payload survives
  assert.deepEqual(s.groups, ['support', 'admin']); // unknown groups are ignored
  assert.equal(s.expiresAt, 2_000_000_000_000);
  assert.deepEqual(sessionFromToken(jwt({ sub: 'u2', exp: 1 }))?.groups, []); // Cognito omits the claim for no group
  assert.equal(sessionFromToken('not-a-jwt'), null);
  assert.equal(sessionFromToken(jwt({ exp: 1 })), null); // no sub
  assert.equal(sessionFromToken('a.%%%.c'), null);
});

test('API errors carry the API wording', () => {
  const e = ApiError.from(422, { error: { code: 'unprocessable', message: 'amountCents 999900 exceeds the refundable remainder of 1899', requestId: 'r1' } });
  assert.equal(e.message, 'amountCents 999900 exceeds the refundable remainder of 1899');
  assert.equal(e.code, 'unprocessable');
  assert.equal(e.requestId, 'r1');
  assert.equal(e.status, 422);
  assert.equal(ApiError.from(403, { message: 'Forbidden' }).message, 'Forbidden'); // API Gateway's own shape
  assert.equal(ApiError.from(502, null).message, 'HTTP 502');
});

test('config.json: local and cognito, broken documents rejected', () => {
  assert.deepEqual(parseConfig({ env: 'dev', api: '', auth: { mode: 'local' } }), { env: 'dev', api: '', auth: { mode: 'local' } });
  const c = parseConfig({
    env: 'prod',
    api: 'https://api.example.com/',
    auth: {
      mode: 'cognito',
      authority: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc',
      clientId: 'cid',
      domain: 'https://x.auth.eu-west-1.amazoncognito.com/',
      redirectUri: 'https://d.cloudfront.net/console/',
    },
  });
  assert.equal(c.api, 'https://api.example.com'); // no trailing slash: paths start with '/'
  assert.equal(c.auth.mode === 'cognito' && c.auth.domain, 'https://x.auth.eu-west-1.amazoncognito.com');
  assert.throws(() => parseConfig({ env: 'dev', api: '', auth: { mode: 'cognito', clientId: 'x' } }), /authority/);
  assert.throws(() => parseConfig({ env: 'dev', api: '', auth: { mode: 'magic' } }), /mode/);
  assert.throws(() => parseConfig([]), /expected/);
});
