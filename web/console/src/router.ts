// Hash routing: #/overview, #/payments… The part after the route name (#/books/statement) is
// passed to the page as `rest`; a query after '?' (#/audit?actor=u1) as `params`.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  name: string;
  rest: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const [path = '', qs = ''] = h.split('?', 2);
  const [name = '', ...rest] = path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  return { name, rest, params: new URLSearchParams(qs) };
}

export function href(name: string, ...rest: string[]): string {
  return `#/${[name, ...rest].map(encodeURIComponent).join('/')}`;
}

export function navigate(name: string, ...rest: string[]): void {
  window.location.hash = href(name, ...rest);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
