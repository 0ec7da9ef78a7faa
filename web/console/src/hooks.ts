// Data hooks shared by the pages.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { PageFetcher } from './api';

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * useLoad runs load() when deps change (and on reload()); a superseded run is aborted and its
 * answer ignored. Pass enabled=false to wait (e.g. until a form is submitted).
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], enabled = true): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(enabled);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!enabled) {
      setLoading(false);
      return undefined;
    }
    const ac = new AbortController();
    setLoading(true);
    setError(null);
    load(ac.signal).then(
      (d) => {
        if (ac.signal.aborted) return;
        setData(d);
        setLoading(false);
      },
      (e: unknown) => {
        if (ac.signal.aborted) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, enabled, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export interface Paged<T> {
  items: T[];
  nextCursor: string | null;
  loading: boolean;
  error: unknown;
  /** Fetches the next page (the "Load more" button). */
  loadMore: () => void;
  /** Starts again from the first page. */
  reload: () => void;
  /** Replaces items in place (e.g. a row after an action). */
  update: (f: (items: T[]) => T[]) => void;
}

/**
 * usePaged walks a list route's cursor one page at a time. A new fetcher (new filters) starts
 * from the first page; pass null to show nothing yet.
 */
export function usePaged<T>(fetcher: PageFetcher<T> | null): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [nextCursor, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [gen, setGen] = useState(0);
  const ac = useRef<AbortController | null>(null);

  const fetchPage = useCallback(
    (cursor: string | undefined, append: boolean) => {
      if (!fetcher) return;
      ac.current?.abort();
      const c = new AbortController();
      ac.current = c;
      setLoading(true);
      setError(null);
      fetcher(cursor, c.signal).then(
        (p) => {
          if (c.signal.aborted) return;
          setItems((old) => (append ? [...old, ...p.items] : p.items));
          setNext(p.nextCursor);
          setLoading(false);
        },
        (e: unknown) => {
          if (c.signal.aborted) return;
          setError(e);
          setLoading(false);
        },
      );
    },
    [fetcher],
  );

  useEffect(() => {
    setItems([]);
    setNext(null);
    if (fetcher) fetchPage(undefined, false);
    else setLoading(false);
    return () => ac.current?.abort();
  }, [fetcher, gen, fetchPage]);

  return {
    items,
    nextCursor,
    loading,
    error,
    loadMore: () => {
      if (nextCursor) fetchPage(nextCursor, true);
    },
    reload: () => setGen((g) => g + 1),
    update: (f) => setItems(f),
  };
}
