// Sign-in state. The console keeps the ID token (the API's authorizer reads ID tokens) in
// sessionStorage: it is gone when the tab closes, and never shared with other tabs.
import { UserManager, WebStorageStateStore } from 'oidc-client-ts';
import type { CognitoAuth, ConsoleConfig } from './config';
import { ApiError } from './errors';
import { sessionFromToken, type Group, type Session } from './token';

export { GROUPS, sessionFromToken, type Group, type Session } from './token';

const KEY = 'console.idToken';

type Listener = (s: Session | null) => void;
const listeners = new Set<Listener>();

export function onSessionChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

function emit(): void {
  const s = currentSession();
  for (const l of listeners) l(s);
}

/** currentSession is the stored, unexpired session, or null. */
export function currentSession(): Session | null {
  const t = sessionStorage.getItem(KEY);
  if (!t) return null;
  const s = sessionFromToken(t);
  if (!s || s.expiresAt <= Date.now()) {
    sessionStorage.removeItem(KEY);
    return null;
  }
  return s;
}

export function setToken(token: string): Session {
  const s = sessionFromToken(token);
  if (!s) throw new Error('the sign-in returned a token the console cannot read');
  sessionStorage.setItem(KEY, token);
  emit();
  return s;
}

export function hasGroup(s: Session | null, ...any: Group[]): boolean {
  return !!s && s.groups.some((g) => any.includes(g));
}

/** Local mode: the local gateway's token authority mints an ID token (development only). */
export async function signInLocal(
  cfg: ConsoleConfig,
  req: { sub: string; email: string; groups: Group[] },
): Promise<Session> {
  const res = await fetch(`${cfg.api}/_local/console/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(req),
  });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw ApiError.from(res.status, body);
  const token = (body as { token?: unknown } | null)?.token;
  if (typeof token !== 'string') throw new Error('the local token authority answered without a token');
  return setToken(token);
}

let manager: UserManager | null = null;

function userManager(a: CognitoAuth): UserManager {
  manager ??= new UserManager({
    authority: a.authority,
    client_id: a.clientId,
    redirect_uri: a.redirectUri,
    post_logout_redirect_uri: a.redirectUri,
    response_type: 'code',
    scope: 'openid email profile',
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
    stateStore: new WebStorageStateStore({ store: window.sessionStorage }),
    automaticSilentRenew: false,
    loadUserInfo: false,
  });
  return manager;
}

/** Cognito mode: to the hosted UI (authorization code + PKCE; oidc-client-ts makes the verifier). */
export async function signInCognito(cfg: ConsoleConfig): Promise<void> {
  if (cfg.auth.mode !== 'cognito') throw new Error('not in cognito mode');
  await userManager(cfg.auth).signinRedirect();
}

/**
 * completeSignIn handles the hosted UI's redirect back (?code=…&state=…) at start-up: it exchanges
 * the code, stores the ID token and removes the query from the address bar. Returns true when it
 * handled a callback.
 */
export async function completeSignIn(cfg: ConsoleConfig): Promise<boolean> {
  if (cfg.auth.mode !== 'cognito') return false;
  const q = new URLSearchParams(window.location.search);
  if (!q.has('code') && !q.has('error')) return false;
  try {
    if (q.has('error')) throw new Error(q.get('error_description') || q.get('error') || 'sign-in failed');
    const user = await userManager(cfg.auth).signinRedirectCallback();
    if (!user.id_token) throw new Error('the hosted UI returned no ID token');
    setToken(user.id_token);
  } finally {
    window.history.replaceState(null, '', `${window.location.pathname}#/`);
  }
  return true;
}

/** dropSession forgets the token (an expired or rejected one) without leaving the page. */
export function dropSession(): void {
  sessionStorage.removeItem(KEY);
  emit();
}

export async function signOut(cfg: ConsoleConfig): Promise<void> {
  dropSession();
  if (cfg.auth.mode === 'cognito') {
    const a = cfg.auth;
    await userManager(a).removeUser();
    // Cognito's logout endpoint ends the hosted UI session too (logout_uri must be an allowed sign-out URL).
    const u = new URL(`${a.domain}/logout`);
    u.searchParams.set('client_id', a.clientId);
    u.searchParams.set('logout_uri', a.redirectUri);
    window.location.assign(u.toString());
  }
}
