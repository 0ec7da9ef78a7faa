import { useEffect, useState } from 'preact/hooks';
import { currentSession, onSessionChange, signOut, type Session } from './auth';
import { Forbidden } from './components/Forbidden';
import { Layout } from './components/Layout';
import type { ConsoleConfig } from './config';
import { allowed, neededGroup, PAGES } from './pages/registry';
import { SignInPage } from './pages/signin';
import { navigate, useRoute } from './router';

/** The first page a user's groups allow: admin → overview, support → support, instructor → instructor. */
function home(s: Session): string {
  return PAGES.find((p) => allowed(p, s.groups))?.name ?? '';
}

export function App({ cfg, startError }: { cfg: ConsoleConfig; startError?: unknown }) {
  const [session, setSession] = useState<Session | null>(currentSession);
  const route = useRoute();
  useEffect(() => onSessionChange(setSession), []);

  // Signed in with nothing (or the sign-in page) in the address bar: go to the user's first page.
  useEffect(() => {
    if (session && (route.name === '' || route.name === 'sign-in')) {
      const h = home(session);
      if (h) navigate(h);
    }
  }, [session, route.name]);

  const visible = session ? PAGES.filter((p) => allowed(p, session.groups)) : [];
  const page = PAGES.find((p) => p.name === route.name);
  useEffect(() => {
    document.title = `${page?.title ?? (session ? 'Operator console' : 'Sign in')} · Operator console`;
  }, [page, session]);

  let body;
  if (!session) {
    body = <SignInPage cfg={cfg} onSignedIn={setSession} />;
  } else if (!page) {
    body =
      route.name === '' || route.name === 'sign-in' ? (
        <h1>Operator console</h1>
      ) : (
        <>
          <h1>Page not found</h1>
          <p>There is no page “{route.name}”. Choose one from the navigation.</p>
        </>
      );
  } else if (!allowed(page, session.groups)) {
    body = <Forbidden title={page.title} group={neededGroup(page)} />;
  } else {
    const C = page.component;
    body = <C key={page.name} route={route} />;
  }

  return (
    <Layout
      env={cfg.env}
      session={session}
      pages={visible}
      current={route.name}
      onSignOut={() => {
        void signOut(cfg);
        navigate('sign-in');
      }}
    >
      {startError ? (
        <p role="alert" class="api-error">
          {String(startError instanceof Error ? startError.message : startError)}
        </p>
      ) : null}
      {body}
    </Layout>
  );
}
