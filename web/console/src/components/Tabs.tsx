// Sub-pages as links (#/<page>/<tab>); the current one carries aria-current="page".
import { href } from '../router';

export function Tabs({ page, tabs, current, label }: { page: string; tabs: { name: string; title: string }[]; current: string; label: string }) {
  return (
    <nav class="tabs" aria-label={label}>
      {tabs.map((t) => (
        <a key={t.name} href={href(page, t.name)} aria-current={t.name === current ? 'page' : undefined}>
          {t.title}
        </a>
      ))}
    </nav>
  );
}
