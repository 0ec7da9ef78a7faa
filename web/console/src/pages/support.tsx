// #/support (support agents; an admin outside the support group sees the SLA report only, since
// the queue routes answer 403 to anyone outside the group): the queue by status (GET /support/queue,
// cursor-paged) with live SLA clocks; #/support/<ticketId> opens a ticket (GET /support/tickets/{id})
// with its messages, and the agent claims it (PATCH assignee = me), replies
// (POST …/replies) and changes its status (PATCH status), each confirmed first. Admins also get the
// SLA report (GET /admin/support/sla).
import { useMemo, useState } from 'preact/hooks';
import { get, paged, request, seg } from '../api';
import { currentSession, hasGroup } from '../auth';
import { ApiErrorAlert } from '../components/ApiErrorAlert';
import { ActionOutcome, useConfirmedAction } from '../components/ConfirmedAction';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Choices, FormRow, SelectField, TextArea } from '../components/Field';
import { PagedTable, type Column } from '../components/PagedTable';
import { TableWrap } from '../components/TableWrap';
import { Count, DateTime, Percent } from '../components/Values';
import { useLoad, usePaged } from '../hooks';
import { href } from '../router';
import type { PageProps } from './registry';
import '../components/daily-work.css';
import { SlaClock, type SLATarget } from './support-clock';

type TicketStatus = 'open' | 'pending' | 'solved';

interface Message {
  id: string;
  authorId: string;
  role: 'requester' | 'org-admin' | 'agent';
  body: string;
  at: string;
}

export interface Ticket {
  id: string;
  subject: string;
  status: TicketStatus;
  priority: 'low' | 'normal' | 'high' | 'urgent';
  tier: string;
  requesterId: string;
  assignee: string;
  licenseId: string;
  createdAt: string;
  updatedAt: string;
  firstReplyAt: string | null;
  solvedAt: string | null;
  sla: { businessHours: boolean; timeZone: string; firstReply: SLATarget; resolution: SLATarget; breaching: boolean };
  messages?: Message[];
}

interface SLACounts {
  met: number;
  breached: number;
  metPercent: number | null;
}

interface SLAReport {
  days: number;
  from: string;
  to: string;
  rows: { tier: string; priority: string; met: number; breached: number; metPercent: number | null; firstReply: SLACounts; resolution: SLACounts }[];
}

type TicketAction = { op: 'claim'; id: string; me: string } | { op: 'reply'; id: string; body: string } | { op: 'status'; id: string; status: TicketStatus };

const STATUSES: { value: TicketStatus; label: string }[] = [
  { value: 'open', label: 'Open' },
  { value: 'pending', label: 'Pending' },
  { value: 'solved', label: 'Solved' },
];

const ROLE: Record<Message['role'], string> = { requester: 'Requester', 'org-admin': 'Org admin', agent: 'Agent' };

function assigneeText(a: string, me: string): string {
  if (!a) return 'Unassigned';
  return a === me ? 'You' : a;
}

function act(a: TicketAction): Promise<unknown> {
  const path = `/support/tickets/${seg(a.id)}`;
  // Neither route takes an Idempotency-Key: a PATCH sets a state, and a reply is confirmed first.
  switch (a.op) {
    case 'claim':
      return request('PATCH', path, { body: { assignee: a.me } });
    case 'status':
      return request('PATCH', path, { body: { status: a.status } });
    case 'reply':
      return request('POST', `${path}/replies`, { body: { body: a.body } });
  }
}

function done(a: TicketAction): string {
  switch (a.op) {
    case 'claim':
      return 'The ticket is assigned to you.';
    case 'status':
      return `The ticket is now ${a.status}.`;
    case 'reply':
      return 'Your reply was sent; the requester is told by e-mail.';
  }
}

function TicketView({ id, me, onChanged }: { id: string; me: string; onChanged: () => void }) {
  const t = useLoad((signal) => get<Ticket>(`/support/tickets/${seg(id)}`, undefined, signal), [id]);
  const [reply, setReply] = useState('');
  const [status, setStatus] = useState<TicketStatus | ''>('');
  const action = useConfirmedAction<TicketAction, unknown>(
    (a) => act(a),
    (_, a) => {
      if (a.op === 'reply') setReply('');
      if (a.op === 'status') setStatus('');
      t.reload();
      onChanged();
    },
  );
  const ticket = t.data;
  const a = action.asking;
  const newStatus = status || ticket?.status || 'open';

  return (
    <section class="card ticket" aria-labelledby="ticket-title">
      {ticket ? (
        <>
          <h2 id="ticket-title">{ticket.subject}</h2>
          <dl class="facts">
            <div><dt>Ticket</dt><dd class="mono">{ticket.id}</dd></div>
            <div><dt>Status</dt><dd><span class={`badge badge-${ticket.status}`} data-ticket-status={ticket.status}>{ticket.status}</span></dd></div>
            <div><dt>Priority</dt><dd>{ticket.priority}</dd></div>
            <div><dt>Tier</dt><dd>{ticket.tier}</dd></div>
            <div><dt>Requester</dt><dd class="mono">{ticket.requesterId}</dd></div>
            <div><dt>Assignee</dt><dd data-assignee={ticket.assignee}>{assigneeText(ticket.assignee, me)}</dd></div>
            <div><dt>Opened</dt><dd><DateTime iso={ticket.createdAt} /></dd></div>
            <div>
              <dt>SLA{ticket.sla.businessHours ? ` (business hours, ${ticket.sla.timeZone})` : ''}</dt>
              <dd class="sla-clocks">
                <SlaClock label="First response" target={ticket.sla.firstReply} />
                <SlaClock label="Resolution" target={ticket.sla.resolution} />
              </dd>
            </div>
          </dl>

          <h3>Messages</h3>
          <ol class="messages" aria-label="Messages, oldest first">
            {(ticket.messages ?? []).map((m) => (
              <li key={m.id} class={`message message-${m.role}`}>
                <p class="message-meta">
                  <strong>{ROLE[m.role] ?? m.role}</strong> <span class="mono">{m.authorId}</span> · <DateTime iso={m.at} />
                </p>
                <p class="message-body">{m.body}</p>
              </li>
            ))}
          </ol>

          <ActionOutcome action={action}>{action.result ? <p>{done(action.result.action)}</p> : null}</ActionOutcome>

          <div class="ticket-actions">
            <div class="actions start">
              <button type="button" class="primary" disabled={action.busy || ticket.assignee === me}
                onClick={() => action.ask({ op: 'claim', id: ticket.id, me })}>
                {ticket.assignee === me ? 'Assigned to you' : 'Assign to me'}
              </button>
            </div>

            <form aria-label="Reply to the requester"
              onSubmit={(e) => {
                e.preventDefault();
                action.ask({ op: 'reply', id: ticket.id, body: reply });
              }}>
              <TextArea label="Reply" name="reply" rows={4} maxLength={10000} value={reply} onInput={setReply} required />
              <div class="actions start">
                <button type="submit" class="primary" disabled={action.busy}>
                  Send reply
                </button>
              </div>
            </form>

            <form aria-label="Change the status"
              onSubmit={(e) => {
                e.preventDefault();
                action.ask({ op: 'status', id: ticket.id, status: newStatus });
              }}>
              <FormRow>
                <SelectField label="Status" name="ticketStatus" value={newStatus} onChange={(v) => setStatus(v as TicketStatus)} options={STATUSES}
                  hint="Pending pauses the resolution clock; solved stops both." />
              </FormRow>
              <div class="actions start">
                <button type="submit" disabled={action.busy || newStatus === ticket.status}>
                  Change status
                </button>
              </div>
            </form>
          </div>
        </>
      ) : (
        <h2 id="ticket-title">Ticket <span class="mono">{id}</span></h2>
      )}
      {t.loading ? <p class="loading">Loading…</p> : null}
      <ApiErrorAlert error={t.error} />
      <p>
        <a href={href('support')}>Back to the queue</a>
      </p>

      <ConfirmDialog
        open={a !== null}
        title={a?.op === 'claim' ? 'Assign this ticket to you?' : a?.op === 'reply' ? 'Send this reply?' : a?.op === 'status' ? `Change the status to ${a.status}?` : ''}
        confirmLabel={a?.op === 'claim' ? 'Assign' : a?.op === 'reply' ? 'Send' : 'Change'}
        onConfirm={action.confirm}
        onCancel={action.cancel}
      >
        {a?.op === 'reply' ? (
          <>
            <p>The requester is e-mailed this reply:</p>
            <blockquote class="message-body">{a.body}</blockquote>
          </>
        ) : null}
        {a?.op === 'claim' ? <p>You become the ticket's assignee; replies from the requester are e-mailed to you.</p> : null}
        {a?.op === 'status' ? <p>{a.status === 'solved' ? 'Solving stops both SLA clocks.' : a.status === 'pending' ? 'Pending pauses the resolution clock; the first-response clock runs on until an agent replies.' : 'Open runs the clocks again.'}</p> : null}
      </ConfirmDialog>
    </section>
  );
}

function SlaReport() {
  const r = useLoad((signal) => get<SLAReport>('/admin/support/sla', undefined, signal), []);
  return (
    <section aria-labelledby="sla-report-title">
      <h2 id="sla-report-title">SLA targets met{r.data ? `, ${r.data.from} to ${r.data.to}` : ''}</h2>
      <ApiErrorAlert error={r.error} />
      {r.data ? (
        <TableWrap label="SLA targets met per tier and priority">
          <table>
            <caption>Targets met per tier and priority (last {r.data.days} days)</caption>
            <thead>
              <tr>
                <th scope="col">Tier</th>
                <th scope="col">Priority</th>
                <th scope="col" class="num">Met</th>
                <th scope="col" class="num">Breached</th>
                <th scope="col" class="num">Met %</th>
                <th scope="col" class="num">First response met %</th>
                <th scope="col" class="num">Resolution met %</th>
              </tr>
            </thead>
            <tbody>
              {r.data.rows.map((row) => (
                <tr key={`${row.tier}-${row.priority}`}>
                  <th scope="row">{row.tier}</th>
                  <td>{row.priority}</td>
                  <td class="num"><Count n={row.met} /></td>
                  <td class="num"><Count n={row.breached} /></td>
                  <td class="num"><Percent percent={row.metPercent} /></td>
                  <td class="num"><Percent percent={row.firstReply.metPercent} /></td>
                  <td class="num"><Percent percent={row.resolution.metPercent} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
    </section>
  );
}

export function SupportPage({ route }: PageProps) {
  const session = currentSession();
  const me = session?.sub ?? '';
  const open = route.rest[0] ?? '';
  const initial = route.params.get('status');
  const [status, setStatus] = useState<TicketStatus>(STATUSES.some((s) => s.value === initial) ? (initial as TicketStatus) : 'open');
  const [breaching, setBreaching] = useState(route.params.get('breaching') === 'true');
  // The queue routes are the support group's (403 to anyone else, admins included): an admin
  // outside it sees the SLA report and a note, and the page asks the queue for nothing.
  const agent = hasGroup(session, 'support');
  const fetcher = useMemo(
    () => (agent ? paged<Ticket>('/support/queue', 'tickets', { status, breaching: breaching ? 'true' : undefined }) : null),
    [agent, status, breaching],
  );
  const queue = usePaged(fetcher);

  const columns: Column<Ticket>[] = [
    {
      header: 'Subject',
      cell: (t) => (
        <a href={href('support', t.id)} data-ticket-id={t.id} aria-current={t.id === open ? 'true' : undefined}>
          {t.subject}
        </a>
      ),
    },
    { header: 'Priority', cell: (t) => t.priority },
    { header: 'Tier', cell: (t) => t.tier },
    { header: 'Assignee', cell: (t) => assigneeText(t.assignee, me) },
    { header: 'First response', cell: (t) => <SlaClock label="First response" target={t.sla.firstReply} /> },
    { header: 'Resolution', cell: (t) => <SlaClock label="Resolution" target={t.sla.resolution} /> },
    { header: 'Opened', cell: (t) => <DateTime iso={t.createdAt} /> },
  ];

  return (
    <>
      <h1>Support</h1>
      {agent ? null : (
        <p class="note">The queue (claim, reply, status) is the support group's: sign in with the support group to work tickets.</p>
      )}
      {agent && open ? <TicketView key={open} id={open} me={me} onChanged={queue.reload} /> : null}

      {agent ? (
        <section aria-labelledby="queue-title">
          <h2 id="queue-title">Queue</h2>
          <form class="card" aria-label="Filter the queue" onSubmit={(e) => e.preventDefault()}>
            <FormRow>
              <SelectField label="Queue status" name="queueStatus" value={status} onChange={(v) => setStatus(v as TicketStatus)} options={STATUSES} />
              <Choices legend="Targets" type="checkbox" name="breaching" options={[{ value: 'true', label: 'Only tickets past or breaching a target' }]}
                selected={breaching ? ['true'] : []} onChange={(s) => setBreaching(s.includes('true'))} />
            </FormRow>
            <div class="actions start">
              <button type="button" onClick={queue.reload}>
                Refresh
              </button>
            </div>
          </form>
          <PagedTable caption={`Tickets: ${status}${breaching ? ', breaching' : ''} (oldest first)`} columns={columns} paged={queue}
            rowKey={(t) => t.id} empty="No tickets here." />
        </section>
      ) : null}

      {hasGroup(session, 'admin') ? <SlaReport /> : null}
    </>
  );
}
