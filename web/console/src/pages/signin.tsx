// #/sign-in. Local mode: a form that asks the local gateway's token authority for an ID token
// (development only — the route does not exist in AWS). Cognito mode: to the hosted UI.
import { useState } from 'preact/hooks';
import { GROUPS, signInCognito, signInLocal, type Group, type Session } from '../auth';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { Choices, FormRow, TextField } from '../components/Field';
import type { ConsoleConfig } from '../config';

export function SignInPage({ cfg, onSignedIn }: { cfg: ConsoleConfig; onSignedIn: (s: Session) => void }) {
  const [sub, setSub] = useState('admin-1');
  const [email, setEmail] = useState('admin@example.com');
  const [groups, setGroups] = useState<string[]>(['admin']);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (cfg.auth.mode === 'cognito') {
    return (
      <>
        <h1>Sign in</h1>
        <p>Sign in with your operator account.</p>
        <ApiErrorAlert error={error} />
        <button
          type="button"
          class="primary"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            signInCognito(cfg).catch((e: unknown) => {
              setError(e);
              setBusy(false);
            });
          }}
        >
          Sign in
        </button>
      </>
    );
  }

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signInLocal(cfg, { sub: sub.trim(), email: email.trim(), groups: groups as Group[] }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>Sign in</h1>
      <form class="card signin" onSubmit={submit} aria-labelledby="local-signin">
        <h2 id="local-signin">Local sign-in — development only</h2>
        <p class="note">
          The local token authority mints a one-hour ID token for any user you name. This form does not exist in AWS.
        </p>
        <FormRow>
          <TextField label="User id" name="sub" required value={sub} onInput={setSub} pattern="[A-Za-z0-9_.@\-]{1,128}" />
          <TextField label="E-mail" name="email" type="email" value={email} onInput={setEmail} />
        </FormRow>
        <Choices
          legend="Groups"
          type="checkbox"
          name="groups"
          options={GROUPS.map((g) => ({ value: g, label: g }))}
          selected={groups}
          onChange={setGroups}
        />
        <ApiErrorAlert error={error} focus />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </>
  );
}
