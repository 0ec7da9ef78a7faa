// The shell: a skip link, a header (console name, environment, who is signed in, sign out), the
// nav (only the pages the user's groups allow; a disclosure button at phone width) and <main>.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from '../auth';
import type { PageDef } from '../pages/registry';
import { href } from '../router';

export interface LayoutProps {
  env: string;
  session: Session | null;
  pages: PageDef[];
  current: string;
  onSignOut: () => void;
  children: ComponentChildren;
}

export function Layout({ env, session, pages, current, onSignOut, children }: LayoutProps) {
  const [navOpen, setNavOpen] = useState(false);
  const mainRef = useRef<HTMLElement>(null);
  // A new page: close the phone menu and move focus to <main> so screen readers start there.
  const first = useRef(true);
  useEffect(() => {
    setNavOpen(false);
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.focus();
  }, [current]);
  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => { e.preventDefault(); mainRef.current?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <div class="brand">
          <span class="brand-name">Operator console</span>
          <span class="env" title="environment">{env}</span>
        </div>
        {session ? (
          <>
            <button
              type="button"
              class="nav-toggle"
              aria-expanded={navOpen}
              aria-controls="primary-nav"
              onClick={() => setNavOpen(!navOpen)}
            >
              Menu
            </button>
            <div class="who">
              <span class="who-id">{session.email || session.sub}</span>
              <span class="who-groups">{session.groups.length ? session.groups.join(', ') : 'no group'}</span>
              <button type="button" onClick={onSignOut}>
                Sign out
              </button>
            </div>
          </>
        ) : null}
      </header>
      {session ? (
        <nav id="primary-nav" class={navOpen ? 'open' : ''} aria-label="Console pages">
          <ul>
            {pages.map((p) => (
              <li key={p.name}>
                <a href={href(p.name)} aria-current={p.name === current ? 'page' : undefined}>
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      <main id="main" ref={mainRef} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
