// A table over a cursor-paged list with a "Load more" button while the API returns nextCursor.
import type { ComponentChildren } from 'preact';
import type { Paged } from '../hooks';
import { ApiErrorAlert } from './ApiErrorAlert';
import { TableWrap } from './TableWrap';

export interface Column<T> {
  header: string;
  cell: (row: T) => ComponentChildren;
  /** 'num' right-aligns numbers. */
  className?: string;
}

export interface PagedTableProps<T> {
  caption: string;
  columns: Column<T>[];
  paged: Paged<T>;
  rowKey: (row: T) => string;
  empty?: string;
}

export function PagedTable<T>({ caption, columns, paged, rowKey, empty = 'Nothing to show.' }: PagedTableProps<T>) {
  const { items, nextCursor, loading, error, loadMore } = paged;
  return (
    <div class="paged">
      <TableWrap label={caption}>
        <table class="stack">
          <caption>{caption}</caption>
          <thead>
            <tr>
              {columns.map((c) => (
                <th scope="col" class={c.className} key={c.header}>
                  {c.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {items.map((row) => (
              <tr key={rowKey(row)}>
                {columns.map((c) => (
                  <td class={c.className} key={c.header} data-label={c.header}>
                    {c.cell(row)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      {!loading && !error && items.length === 0 && !nextCursor ? <p class="empty">{empty}</p> : null}
      <ApiErrorAlert error={error} />
      <p class="paged-foot" aria-live="polite">
        {loading ? <span class="loading">Loading…</span> : null}
        {!loading && nextCursor ? (
          <button type="button" class="more" onClick={loadMore}>
            Load more
          </button>
        ) : null}
      </p>
    </div>
  );
}
