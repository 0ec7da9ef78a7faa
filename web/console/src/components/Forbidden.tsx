import type { Group } from '../auth';

/** Shown instead of a page the user's groups do not allow; the page itself is not rendered, so it calls nothing. */
export function Forbidden({ title, group }: { title: string; group: Group }) {
  return (
    <>
      <h1>{title}</h1>
      <p role="alert" class="forbidden">
        This page needs the {group} group
      </p>
    </>
  );
}
