// The API client: bearer token, JSON both ways, errors as ApiError (worded by the API),
// Idempotency-Key on the calls that take one, and cursor paging.
import { currentSession, dropSession } from './auth';
import type { ConsoleConfig } from './config';
import { ApiError } from './errors';

export { ApiError } from './errors';

let base = '';

/** initApi sets the API origin from config.json ("" = same origin). */
export function initApi(cfg: ConsoleConfig): void {
  base = cfg.api;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Sent as Idempotency-Key; keep the same key when retrying the same confirmed action. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** url builds base + path + the query's non-empty values. */
export function url(path: string, query?: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const qs = q.toString();
  return `${base}${path}${qs ? `?${qs}` : ''}`;
}

/** seg escapes one path segment (user ids, account names…). */
export function seg(s: string): string {
  return encodeURIComponent(s);
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const s = currentSession();
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  const init: RequestInit = { method, headers };
  if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
  if (opts.signal) init.signal = opts.signal;
  const res = await fetch(url(path, opts.query), init);
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!res.ok) {
    // A rejected token means the session is over: forget it so the shell shows the sign-in page.
    if (res.status === 401) dropSession();
    throw ApiError.from(res.status, body);
  }
  return body as T;
}

export function get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
  const o: RequestOptions = {};
  if (query) o.query = query;
  if (signal) o.signal = signal;
  return request<T>('GET', path, o);
}

export function post<T>(path: string, body: unknown, idempotencyKey?: string): Promise<T> {
  const o: RequestOptions = { body };
  if (idempotencyKey) o.idempotencyKey = idempotencyKey;
  return request<T>('POST', path, o);
}

export function patch<T>(path: string, body: unknown, idempotencyKey?: string): Promise<T> {
  const o: RequestOptions = { body };
  if (idempotencyKey) o.idempotencyKey = idempotencyKey;
  return request<T>('PATCH', path, o);
}

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A function that fetches one page: undefined cursor = the first page. */
export type PageFetcher<T> = (cursor: string | undefined, signal?: AbortSignal) => Promise<Page<T>>;

/**
 * paged makes a PageFetcher for a list route whose body is {<key>: T[], nextCursor?}. query holds
 * the filters; `cursor` is added per page.
 */
export function paged<T>(path: string, key: string, query: Query = {}): PageFetcher<T> {
  return async (cursor, signal) => {
    const body = await get<Record<string, unknown>>(path, { ...query, cursor }, signal);
    const items = body?.[key];
    const next = body?.nextCursor;
    return {
      items: Array.isArray(items) ? (items as T[]) : [],
      nextCursor: typeof next === 'string' && next !== '' ? next : null,
    };
  };
}

/** all follows a PageFetcher's cursors until the end (charts need the whole range). */
export async function all<T>(f: PageFetcher<T>, signal?: AbortSignal, maxPages = 100): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const p = await f(cursor, signal);
    out.push(...p.items);
    if (!p.nextCursor) return out;
    cursor = p.nextCursor;
  }
  return out;
}
