// The license forms' request bodies (pure, unit-tested by `npm test`): what POST /admin/licenses
// and PATCH /admin/licenses/{id} are sent from what an operator typed. Nothing is judged here that
// the API judges: a value that is not what the API expects is passed on as typed, so the API's
// own 400/422 message (naming the field) is what the operator sees.

export type Overage = 'block' | 'allow';
export type Expiration = 'restrict' | 'revoke' | 'maintain';

/** GET /licenses/{id} (no key) and the admin views (with the key and admin e-mails). */
export interface License {
  id: string;
  orgId: string;
  orgName: string;
  status: 'issued' | 'active' | 'expired' | 'suspended';
  suspended: boolean;
  seats: number;
  seatsUsed: number;
  overageSeats: number;
  startsAt: string;
  expiresAt: string;
  overagePolicy: Overage;
  expirationPolicy: Expiration;
  timeZone: string;
  features: string[];
  activatedAt: string | null;
  adminEmails?: string[];
  key?: string;
  keyId?: string;
  keyVersion?: number;
  createdAt?: string;
  updatedAt?: string;
}

/** A UTC date (YYYY-MM-DD) n days from `now`. */
export function utcDate(daysFromNow = 0, now = Date.now()): string {
  return new Date(now + daysFromNow * 86_400_000).toISOString().slice(0, 10);
}

/** The start of a UTC day as RFC 3339; anything else is passed on for the API to judge. */
export function dayStart(d: string): string {
  const t = d.trim();
  return /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t;
}

/** Whole numbers go as JSON numbers; anything else as the typed text, so the API names the field. */
export function intOrText(s: string): number | string {
  return /^\s*\d+\s*$/.test(s) ? Number(s) : s;
}

/** The addresses in a free-text list (commas, semicolons, spaces or new lines between them). */
export function emails(s: string): string[] {
  return s.split(/[\s,;]+/).filter(Boolean);
}

export interface CreateForm {
  orgName: string;
  seats: string;
  startsAt: string;
  expiresAt: string;
  overagePolicy: Overage;
  expirationPolicy: Expiration;
  adminEmails: string;
  timeZone: string;
}

/** createBody is POST /admin/licenses's body; an empty time zone is left out (the API's UTC). */
export function createBody(f: CreateForm): Record<string, unknown> {
  const body: Record<string, unknown> = {
    orgName: f.orgName.trim(),
    seats: intOrText(f.seats),
    startsAt: dayStart(f.startsAt),
    expiresAt: dayStart(f.expiresAt),
    overagePolicy: f.overagePolicy,
    expirationPolicy: f.expirationPolicy,
    adminEmails: emails(f.adminEmails),
  };
  if (f.timeZone.trim()) body.timeZone = f.timeZone.trim();
  return body;
}

export interface Change {
  seats: string;
  expiresAt: string;
  overagePolicy: Overage;
  expirationPolicy: Expiration;
  suspended: boolean;
}

/** changeOf is the change form filled with the license as it is. */
export function changeOf(l: License): Change {
  return {
    seats: String(l.seats),
    expiresAt: l.expiresAt.slice(0, 10),
    overagePolicy: l.overagePolicy,
    expirationPolicy: l.expirationPolicy,
    suspended: l.suspended,
  };
}

/**
 * patchBody holds only the fields that differ from the license (absent fields stay as they are,
 * and every PATCH re-issues the key, so nothing unchanged is sent). {} = nothing to save.
 */
export function patchBody(l: License, c: Change): Record<string, unknown> {
  const was = changeOf(l);
  const b: Record<string, unknown> = {};
  if (c.seats.trim() !== was.seats) b.seats = intOrText(c.seats);
  if (c.expiresAt.trim() !== was.expiresAt) b.expiresAt = dayStart(c.expiresAt);
  if (c.overagePolicy !== was.overagePolicy) b.overagePolicy = c.overagePolicy;
  if (c.expirationPolicy !== was.expirationPolicy) b.expirationPolicy = c.expirationPolicy;
  if (c.suspended !== was.suspended) b.suspended = c.suspended;
  return b;
}
