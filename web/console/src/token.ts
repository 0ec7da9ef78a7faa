// Reading the ID token's claims (no imports: unit-tested with node --test).

export type Group = 'admin' | 'support' | 'instructor';
export const GROUPS: readonly Group[] = ['admin', 'support', 'instructor'];

export interface Session {
  token: string;
  sub: string;
  email: string;
  groups: Group[];
  /** Expiry, epoch milliseconds. */
  expiresAt: number;
}

function b64urlDecode(s: string): string {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(s.length / 4) * 4, '=');
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * sessionFromToken reads the claims the console needs from a JWT's payload. The signature is not
 * checked here: the API checks it on every call; the console only decides what to show.
 */
export function sessionFromToken(token: string): Session | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const c = JSON.parse(b64urlDecode(parts[1]!)) as Record<string, unknown>;
    const raw = Array.isArray(c['cognito:groups']) ? (c['cognito:groups'] as unknown[]) : [];
    const groups = raw.filter((g): g is Group => typeof g === 'string' && (GROUPS as readonly string[]).includes(g));
    if (typeof c.sub !== 'string' || typeof c.exp !== 'number') return null;
    return {
      token,
      sub: c.sub,
      email: typeof c.email === 'string' ? c.email : '',
      groups,
      expiresAt: c.exp * 1000,
    };
  } catch {
    return null;
  }
}

