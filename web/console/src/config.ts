// Runtime configuration: GET /console/config.json, answered by the local gateway (local mode) or
// uploaded beside the app by CDK (cognito mode). Nothing environment-specific is built into the
// bundle, so one build serves every environment.

export interface LocalAuth {
  mode: 'local';
}

export interface CognitoAuth {
  mode: 'cognito';
  authority: string;
  clientId: string;
  domain: string;
  redirectUri: string;
}

export type AuthConfig = LocalAuth | CognitoAuth;

export interface ConsoleConfig {
  env: string;
  /** API origin; "" means the console's own origin. No trailing slash. */
  api: string;
  auth: AuthConfig;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** parseConfig checks the document's shape so a broken deployment fails loudly at start-up. */
export function parseConfig(v: unknown): ConsoleConfig {
  if (!isObject(v) || typeof v.env !== 'string' || typeof v.api !== 'string' || !isObject(v.auth)) {
    throw new Error('config.json: expected {env, api, auth}');
  }
  const a = v.auth;
  const api = v.api.replace(/\/+$/, '');
  if (a.mode === 'local') return { env: v.env, api, auth: { mode: 'local' } };
  if (a.mode === 'cognito') {
    for (const k of ['authority', 'clientId', 'domain', 'redirectUri'] as const) {
      if (typeof a[k] !== 'string' || a[k] === '') throw new Error(`config.json: auth.${k} is required`);
    }
    return {
      env: v.env,
      api,
      auth: {
        mode: 'cognito',
        authority: a.authority as string,
        clientId: a.clientId as string,
        domain: (a.domain as string).replace(/\/+$/, ''),
        redirectUri: a.redirectUri as string,
      },
    };
  }
  throw new Error('config.json: auth.mode must be "local" or "cognito"');
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const res = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: 'no-store' });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  return parseConfig(await res.json());
}
