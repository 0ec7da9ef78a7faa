// Every page of the console, in nav order. A page is reachable at #/<name>; `groups` decides who
// sees it in the nav and who may open it (admin sees every page; the API enforces it anyway).
import type { FunctionComponent } from 'preact';
import type { Group } from '../auth';
import type { Route } from '../router';
import { AuditPage } from './audit';
import { BooksPage } from './books';
import { InstructorPage } from './instructor';
import { OverviewPage } from './overview';
import { PaymentsPage } from './payments';
import { LicensesPage } from './licenses';
import { PayoutsPage } from './payouts';
import { RedemptionsPage } from './redemptions';
import { SupportPage } from './support';

export interface PageProps {
  route: Route;
}

export interface PageDef {
  name: string;
  /** The nav label and the page's <h1>. */
  title: string;
  /** Groups allowed besides admin; [] = admin only. */
  groups: Group[];
  component: FunctionComponent<PageProps>;
}

export const PAGES: PageDef[] = [
  { name: 'overview', title: 'Overview', groups: [], component: OverviewPage },
  { name: 'payments', title: 'Payments', groups: [], component: PaymentsPage },
  { name: 'payouts', title: 'Payouts', groups: [], component: PayoutsPage },
  { name: 'redemptions', title: 'Redemptions', groups: [], component: RedemptionsPage },
  { name: 'licenses', title: 'Licenses', groups: [], component: LicensesPage },
  { name: 'support', title: 'Support', groups: ['support'], component: SupportPage },
  { name: 'audit', title: 'Audit', groups: [], component: AuditPage },
  { name: 'books', title: 'Books', groups: [], component: BooksPage },
  { name: 'instructor', title: 'Instructor', groups: ['instructor'], component: InstructorPage },
];

export function allowed(p: PageDef, groups: Group[]): boolean {
  return groups.includes('admin') || p.groups.some((g) => groups.includes(g));
}

/** The group named by the Forbidden message: the page's own group, else admin. */
export function neededGroup(p: PageDef): Group {
  return p.groups[0] ?? 'admin';
}
