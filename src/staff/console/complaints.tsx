import type { Context, Hono } from 'hono';
import { raw } from 'hono/html';
import { COMPLAINT_CATEGORIES, COMPLAINT_STATUSES, PHOTO_MAX_BYTES } from '../../complaints/model';
import type { ComplaintStatus } from '../../store/schema';
import { isCategory, isStatus, type ComplaintDetail } from '../complaints/service';
import type { ComplaintSummary, TimelineEntry } from '../complaints/views';
import { MAX_STAFF_MESSAGE_CHARS } from '../customers/conversation';
import type { CustomerFailure } from '../customers/result';
import type { ConsoleContext } from './deps';
import {
  Card,
  CheckboxField,
  consoleRoutes,
  CsrfField,
  customerName,
  DataTable,
  FactsTable,
  flashNote,
  formatTime,
  FormField,
  notFoundPage,
  PostButton,
  problemsOf,
  readForm,
  RecordToolbar,
  SubmitButton,
  textsOf,
  Toolbar,
  type ConsoleEnv,
  type Flash,
  type Page,
  type Problem,
} from './kit';

/*
 * The complaints inbox (per branch, filtered by status, deadlines at risk, assignee and category; who is
 * on duty; the branch's response times and staff groups) and one ticket: its facts, its timeline as a live
 * chat with the customer (polled every few seconds), and what staff do with it.
 */

const cx = textsOf('console-complaints');

const FLASHES = ['taken', 'assigned', 'noted', 'sent', 'resolved', 'closed', 'reopened', 'handedBack', 'handedBackSilent', 'dutyOn', 'dutyOff', 'settingsSaved'];

const STYLES = `
  .timeline { display:flex; flex-direction:column; gap:8px; max-height:60vh; overflow-y:auto; padding:4px; }
  .entry { max-width:80%; padding:8px 12px; border-radius:12px; background:#fff; border:1px solid var(--line); }
  .entry.customer { align-self:flex-start; }
  .entry.staff, .entry.api_token { align-self:flex-end; background:#e9f6ee; }
  .entry.note { align-self:stretch; max-width:none; background:#fffbe6; border-style:dashed; }
  .entry.event { align-self:center; background:transparent; border:0; color:var(--muted); font-size:.85rem; text-align:center; }
  .entry .meta { font-size:.78rem; color:var(--muted); margin-bottom:2px; }
  .entry .text { white-space:pre-wrap; overflow-wrap:anywhere; }
  .entry img { max-width:220px; max-height:220px; border-radius:8px; display:block; }
  .sla-at_risk { background:#fff4e5; color:var(--warn); } .sla-breached, .sla-missed { background:#fdecea; color:var(--bad); } .sla-met, .sla-on_track { background:#e9f6ee; color:var(--ok); }
  .two { display:grid; grid-template-columns: minmax(0,3fr) minmax(0,2fr); gap:16px; }
  @media (max-width:900px) { .two { grid-template-columns: 1fr; } .entry { max-width:95%; } }
`;

/** One timeline entry as both the page and the live script draw it. */
interface EntryView {
  id: number;
  side: string;
  who: string;
  time: string;
  text: string | null;
  photoUrl: string | null;
}

function entryView(page: Page, e: TimelineEntry): EntryView {
  const who = e.actor.type === 'customer' ? cx(page, 'actor.customer', { name: e.actor.name ?? customerName(page, null) }) : e.actor.type === 'system' ? cx(page, 'actor.system') : (e.actor.name ?? '');
  const side = e.kind === 'note' ? 'note' : ['customer_message', 'customer_photo'].includes(e.kind) ? 'customer' : ['staff_message', 'staff_photo'].includes(e.kind) ? e.actor.type : 'event';
  const text = side === 'event' ? eventText(page, e) : e.kind === 'note' ? `${cx(page, 'event.note')}: ${e.text ?? ''}` : e.text;
  return { id: e.id, side, who, time: formatTime(page, e.at), text, photoUrl: e.photoUrl };
}

/** A status change, an assignment, an escalation… said in the staff member's language. */
function eventText(page: Page, e: TimelineEntry): string {
  const d = e.details ?? {};
  switch (e.kind) {
    case 'assigned':
      return cx(page, 'event.assigned', { name: String(d.toName ?? '') });
    case 'escalated':
      return cx(page, 'event.escalated', { deadline: cx(page, `deadline.${String(d.deadline)}`), names: Array.isArray(d.toNames) ? d.toNames.join(', ') : '' });
    case 'rated':
      return cx(page, 'event.rated', { rating: Number(d.rating ?? 0) });
    case 'resolved':
      return `${cx(page, 'event.resolved')}: ${e.text ?? ''}`;
    case 'opened':
      return cx(page, 'event.opened', { source: cx(page, `source.${String(d.source ?? 'chat')}`) });
    case 'handoff_ended':
      return cx(page, `event.handoff_ended_${String(d.reason ?? 'staff')}`);
    default:
      return cx(page, `event.${e.kind}`);
  }
}

const Entry = ({ entry }: { entry: EntryView }) => (
  <div class={`entry ${entry.side}`} data-id={String(entry.id)}>
    <div class="meta">
      {entry.who} · {entry.time}
    </div>
    {entry.photoUrl ? <img src={entry.photoUrl} alt="" loading="lazy" /> : null}
    {entry.text ? <div class="text">{entry.text}</div> : null}
  </div>
);

/**
 * Polls for new timeline entries every 3 s and appends them (built with textContent, so a customer's words
 * never become markup); reloads the page when the ticket itself changed (status, assignee). Sends photos
 * as their own request. Without JavaScript the page still works: reload to refresh.
 */
const LIVE_SCRIPT = `(function () {
  var box = document.getElementById('timeline');
  if (!box || !window.fetch) return;
  var after = Number(box.getAttribute('data-after')) || 0;
  var version = box.getAttribute('data-version');
  var url = box.getAttribute('data-poll');
  box.scrollTop = box.scrollHeight;
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; }
  function draw(m) {
    var row = el('div', 'entry ' + m.side);
    row.setAttribute('data-id', String(m.id));
    row.appendChild(el('div', 'meta', m.who + ' \\u00b7 ' + m.time));
    if (m.photoUrl) { var img = el('img'); img.src = m.photoUrl; img.alt = ''; row.appendChild(img); }
    if (m.text) row.appendChild(el('div', 'text', m.text));
    return row;
  }
  function tick() {
    fetch(url + '?after=' + after, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
        (data.entries || []).forEach(function (m) { if (m.id <= after) return; box.appendChild(draw(m)); after = m.id; });
        if (atBottom) box.scrollTop = box.scrollHeight;
        var status = document.getElementById('ticket-status');
        if (status && data.statusLabel) status.textContent = data.statusLabel;
        var held = document.getElementById('ticket-held');
        if (held && data.heldLabel) held.textContent = data.heldLabel;
      })
      .catch(function () {})
      .then(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 3000);
  var photo = document.getElementById('photo');
  var note = document.getElementById('photo-status');
  if (photo && note) photo.addEventListener('change', function () {
    var file = photo.files && photo.files[0];
    if (!file) return;
    note.textContent = photo.getAttribute('data-sending');
    fetch(photo.getAttribute('data-url'), { method: 'POST', body: file, credentials: 'same-origin', headers: { 'content-type': file.type || 'application/octet-stream', 'x-csrf-token': photo.getAttribute('data-csrf') } })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) { note.textContent = res.ok ? photo.getAttribute('data-sent') : (res.body && res.body.error) || photo.getAttribute('data-failed'); photo.value = ''; })
      .catch(function () { note.textContent = photo.getAttribute('data-failed'); });
  });
})();`;

const SlaBadge = ({ page, state, dueAt }: { page: Page; state: string; dueAt?: string }) => (
  <span class={`badge sla-${state}`}>
    {cx(page, `sla.${state}`)}
    {dueAt && (state === 'on_track' || state === 'at_risk' || state === 'breached') ? ` · ${cx(page, 'dueBy', { time: formatTime(page, dueAt) })}` : ''}
  </span>
);

function categoryLabel(page: Page, category: string | null): string {
  return cx(page, `category.${category ?? 'none'}`);
}

function excerpt(text: string, max = 120): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

export function registerComplaintPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const pages = consoleRoutes(app, ctx);
  const { complaints, branches } = ctx.services;

  function failureOf(page: Page, failure: CustomerFailure): { text: string; status: 400 | 404 | 409 } {
    switch (failure.reason) {
      case 'invalid':
        return { text: problemsOf(page, failure.errors, (e) => `console-complaints:errors.${e.code}`).map((p) => p.text).join(' '), status: 400 };
      case 'conflict': {
        const key = page.has(`console-complaints:conflict.${failure.code}`) ? `console-complaints:conflict.${failure.code}` : `console-customers:conflict.${failure.code}`;
        return { text: page.t(key), status: 409 };
      }
      case 'erased':
        return { text: page.t('console-customers:conflict.erased'), status: 409 };
      default:
        return { text: cx(page, 'conflict.notFound'), status: 404 };
    }
  }

  // ——— the inbox ———

  async function inbox(page: Page, view: { flash?: Flash | null; status?: 400 | 409; settingsProblems?: Problem[] } = {}): Promise<Response> {
    const visible = await branches.list(page.principal);
    const branchId = visible.some((b) => b.id === page.query('branch')) ? page.query('branch') : (visible[0]?.id ?? '');
    const statusQuery = page.query('status') || 'open';
    const status = statusQuery === 'open' || statusQuery === 'all' ? statusQuery : isStatus(statusQuery) ? statusQuery : 'open';
    const category = isCategory(page.query('category')) ? page.query('category') : null;
    const assignee = page.query('assignee');
    const slaAtRisk = page.query('sla') === 'risk';
    const [items, onDuty, roster, settings] = await Promise.all([
      branchId ? complaints.list(page.principal, { branchId, status: status === 'all' ? null : (status as ComplaintStatus | 'open'), category: category as never, assignee: assignee || null, slaAtRisk }) : Promise.resolve([]),
      complaints.onDuty(page.principal),
      branchId && page.can('complaints.settings') ? complaints.roster(page.principal, branchId) : Promise.resolve(null),
      branchId && page.can('complaints.settings') ? complaints.settings(page.principal, branchId) : Promise.resolve(null),
    ]);
    const staffChoices = branchId ? ((await complaints.roster(page.principal, branchId)) ?? []) : [];
    const list = items ?? [];
    const dutyHere = `/console/complaints?branch=${encodeURIComponent(branchId)}`;
    return page.render(
      { title: cx(page, 'title'), flash: view.flash ?? flashNote(page, FLASHES, (w) => `console-complaints:flash.${w}`), status: view.status },
      <>
        <style>{STYLES}</style>
        <h1>{cx(page, 'title')}</h1>
        {page.principal.role === 'care' || page.principal.role === 'manager' ? (
          <Toolbar>
            <span class={onDuty ? 'badge ok' : 'badge'} id="duty-state">
              {cx(page, onDuty ? 'duty.you' : 'duty.youOff')}
            </span>
            <PostButton page={page} action="/console/complaints/duty" hidden={{ staffId: page.principal.id, onDuty: onDuty ? '0' : '1', back: dutyHere }} label={cx(page, onDuty ? 'duty.goOff' : 'duty.goOn')} small />
          </Toolbar>
        ) : null}
        <Card>
          <form class="toolbar" method="get" action="/console/complaints">
            <label for="f-branch" style="margin:0">
              {cx(page, 'inbox.branch')}
            </label>
            <select id="f-branch" name="branch" style="max-width:220px">
              {visible.map((b) => (
                <option value={b.id} selected={b.id === branchId}>
                  {b.name}
                </option>
              ))}
            </select>
            <select name="status" aria-label={cx(page, 'inbox.status')} style="max-width:180px">
              {['open', 'all', ...COMPLAINT_STATUSES].map((s) => (
                <option value={s} selected={s === status}>
                  {s === 'open' ? cx(page, 'inbox.open') : s === 'all' ? cx(page, 'inbox.anyStatus') : cx(page, `status.${s}`)}
                </option>
              ))}
            </select>
            <select name="assignee" aria-label={cx(page, 'inbox.assignee')} style="max-width:180px">
              <option value="">{cx(page, 'inbox.anyone')}</option>
              <option value="me" selected={assignee === 'me'}>
                {cx(page, 'inbox.me')}
              </option>
              <option value="none" selected={assignee === 'none'}>
                {cx(page, 'inbox.nobody')}
              </option>
              {staffChoices.map((s) => (
                <option value={s.id} selected={assignee === s.id}>
                  {s.name}
                </option>
              ))}
            </select>
            <select name="category" aria-label={cx(page, 'inbox.category')} style="max-width:200px">
              <option value="">{cx(page, 'inbox.anyCategory')}</option>
              {COMPLAINT_CATEGORIES.map((c) => (
                <option value={c} selected={c === category}>
                  {cx(page, `category.${c}`)}
                </option>
              ))}
            </select>
            <CheckboxField name="sla" value="risk" checked={slaAtRisk} label={cx(page, 'inbox.slaAtRisk')} />
            <button type="submit">{cx(page, 'inbox.apply')}</button>
          </form>
          <DataTable
            rows={list}
            empty={cx(page, 'inbox.empty')}
            columns={[
              { label: cx(page, 'columns.reference'), cell: (s: ComplaintSummary) => <a href={`/console/complaints/${s.id}`}>{s.reference}</a> },
              { label: cx(page, 'columns.status'), cell: (s) => <span class="badge">{cx(page, `status.${s.status}`)}</span> },
              { label: cx(page, 'columns.category'), cell: (s) => `${categoryLabel(page, s.category)} · ${cx(page, `priority.${s.priority}`)}` },
              {
                label: cx(page, 'columns.customer'),
                cell: (s) => (
                  <>
                    <strong>{customerName(page, s.customer.name)}</strong>
                    {s.words ? <div class="muted">{excerpt(s.words)}</div> : null}
                  </>
                ),
              },
              { label: cx(page, 'columns.assignee'), cell: (s) => s.assignee?.name ?? <span class="muted">{cx(page, 'ticket.nobody')}</span> },
              { label: cx(page, 'columns.sla'), cell: (s) => <SlaBadge page={page} state={s.sla} dueAt={s.deadlines.firstResponse.doneAt ? s.deadlines.resolution.dueAt : s.deadlines.firstResponse.dueAt} /> },
              { label: cx(page, 'columns.opened'), class: 'muted', cell: (s) => formatTime(page, s.createdAt) },
            ]}
          />
        </Card>
        {roster ? (
          <Card title={cx(page, 'duty.roster')}>
            <DataTable
              rows={roster}
              empty={cx(page, 'duty.none')}
              columns={[
                { cell: (s) => s.name },
                { cell: (s) => page.t(`roles.${s.role}`) },
                { cell: (s) => <span class={s.onDuty ? 'badge ok' : 'badge'}>{cx(page, s.onDuty ? 'duty.on' : 'duty.off')}</span> },
                { cell: (s) => <PostButton page={page} action="/console/complaints/duty" hidden={{ staffId: s.id, onDuty: s.onDuty ? '0' : '1', back: dutyHere }} label={cx(page, s.onDuty ? 'duty.goOff' : 'duty.goOn')} small /> },
              ]}
            />
          </Card>
        ) : null}
        {settings ? (
          <Card title={cx(page, 'settings.title')}>
            <details open={Boolean(view.settingsProblems?.length)}>
              <summary>
                {cx(page, 'settings.summary', { minutes: settings.firstResponseMinutes, hours: settings.resolutionMinutes / 60 })}
              </summary>
              <form method="post" action="/console/complaints/settings">
                <CsrfField page={page} />
                <input type="hidden" name="branch" value={branchId} />
                <FormField label={cx(page, 'settings.firstResponse')} id="firstResponseMinutes" problems={view.settingsProblems}>
                  <input id="firstResponseMinutes" name="firstResponseMinutes" type="number" min="1" value={String(settings.firstResponseMinutes)} />
                </FormField>
                <FormField label={cx(page, 'settings.resolution')} id="resolutionHours" problems={view.settingsProblems}>
                  <input id="resolutionHours" name="resolutionHours" type="number" min="0.25" step="0.25" value={String(settings.resolutionMinutes / 60)} />
                </FormField>
                <FormField label={cx(page, 'settings.telegram')} id="telegramChatId" hint={cx(page, 'settings.telegramHint')} problems={view.settingsProblems}>
                  <input id="telegramChatId" name="telegramChatId" type="text" value={settings.telegramChatId ?? ''} />
                </FormField>
                <FormField label={cx(page, 'settings.line')} id="lineGroupId" hint={cx(page, 'settings.lineHint')} problems={view.settingsProblems}>
                  <input id="lineGroupId" name="lineGroupId" type="text" value={settings.lineGroupId ?? ''} />
                </FormField>
                <SubmitButton label={page.t('common.save')} />
              </form>
            </details>
          </Card>
        ) : null}
      </>,
    );
  }

  pages.get('/console/complaints', 'complaints.read', (page) => inbox(page));

  pages.post('/console/complaints/duty', 'complaints.write', async (page, c) => {
    const form = await readForm(c);
    const on = form.get('onDuty') === '1';
    const result = await complaints.setDuty(page.action, form.get('staffId'), on);
    const back = /^\/console\/complaints(\?[^\s]*)?$/.test(form.get('back')) ? form.get('back') : '/console/complaints';
    if (!result.ok) return inbox(page, { status: 409, flash: { text: failureOf(page, result).text, error: true } });
    return c.redirect(`${back}${back.includes('?') ? '&' : '?'}flash=${on ? 'dutyOn' : 'dutyOff'}`, 303);
  });

  pages.post('/console/complaints/settings', 'complaints.settings', async (page, c) => {
    const form = await readForm(c);
    const branchId = form.get('branch');
    const saved = await complaints.saveSettings(page.action, branchId, {
      firstResponseMinutes: form.get('firstResponseMinutes'),
      resolutionHours: form.get('resolutionHours'),
      telegramChatId: form.get('telegramChatId'),
      lineGroupId: form.get('lineGroupId'),
    });
    if (saved.ok) return c.redirect(`/console/complaints?branch=${encodeURIComponent(branchId)}&flash=settingsSaved`, 303);
    if (saved.reason === 'invalid') {
      const problems = problemsOf(page, saved.errors, (e) => `console-complaints:errors.${e.code}`);
      return inbox(page, { status: 400, settingsProblems: problems, flash: { text: problems.map((p) => p.text).join(' '), error: true } });
    }
    return notFoundPage(page, { title: cx(page, 'title'), text: cx(page, 'conflict.notFound'), back: { href: '/console/complaints', label: cx(page, 'title') } });
  });

  /** Live notices for the console's navigation: the staff member's unread ones. */
  pages.get('/console/complaints/notifications.json', 'complaints.read', async (page, c) => {
    const notices = await complaints.notifications(page.principal);
    c.header('Cache-Control', 'no-store');
    return c.json({
      count: notices.length,
      items: notices.slice(0, 10).map((n) => ({ id: n.id, text: cx(page, `notice.${n.kind}`, { reference: n.reference }), href: `/console/complaints/${n.complaintId}` })),
    });
  });

  // ——— one ticket ———

  async function ticket(page: Page, c: Context<ConsoleEnv>, id: string, view: { flash?: Flash | null; status?: 400 | 404 | 409; problems?: Problem[]; text?: string; note?: string; resolution?: string } = {}): Promise<Response> {
    const found = await complaints.get(page.principal, id);
    if (!found) return notFoundPage(page, { title: cx(page, 'title'), text: cx(page, 'conflict.notFound'), back: { href: '/console/complaints', label: cx(page, 'ticket.back') } });
    await complaints.markRead(page.principal, id);
    const d: ComplaintDetail = found;
    const assignable = (await complaints.assignable(page.principal, id)) ?? [];
    const canWrite = page.can('complaints.write');
    const open = ['new', 'assigned', 'waiting_customer', 'reopened'].includes(d.status);
    const base = `/console/complaints/${d.id}`;
    const lastId = d.timeline.at(-1)?.id ?? 0;
    const deadline = (key: 'firstResponse' | 'resolution') => <SlaBadge page={page} state={d.deadlines[key].state} dueAt={d.deadlines[key].dueAt} />;
    return page.render(
      { title: cx(page, 'ticket.title', { reference: d.reference }), flash: view.flash ?? flashNote(page, FLASHES, (w) => `console-complaints:flash.${w}`), status: view.status },
      <>
        <style>{STYLES}</style>
        <h1>
          {cx(page, 'ticket.title', { reference: d.reference })}{' '}
          <span class="badge" id="ticket-status">
            {cx(page, `status.${d.status}`)}
          </span>{' '}
          <SlaBadge page={page} state={d.sla} />
        </h1>
        <RecordToolbar page={page} back={{ href: '/console/complaints', label: cx(page, 'ticket.back') }} audit={{ entity: 'complaint', id: d.id, label: cx(page, 'ticket.history') }}>
          {canWrite && open && (d.assignee?.id !== page.principal.id || d.conversation.answeredBy !== page.principal.id) ? (
            <PostButton page={page} action={`${base}/take`} label={cx(page, 'ticket.take')} variant="primary" />
          ) : null}
          {canWrite && d.conversation.heldByStaff ? <PostButton page={page} action={`${base}/handback`} label={cx(page, 'ticket.returnToBot')} /> : null}
          <span class={d.conversation.heldByStaff ? 'badge warn' : 'badge'} id="ticket-held">
            {cx(page, d.conversation.heldByStaff ? 'ticket.conversationHeld' : 'ticket.conversationBot')}
          </span>
        </RecordToolbar>
        <div class="two">
          <div>
            <Card title={cx(page, 'ticket.timeline')}>
              <div id="timeline" class="timeline" data-after={String(lastId)} data-version={String(d.version)} data-poll={`${base}/timeline.json`} aria-live="polite">
                {d.timeline.map((e) => (
                  <Entry entry={entryView(page, e)} />
                ))}
              </div>
              <p class="muted" style="font-size:.8rem;margin:6px 0 0">
                {cx(page, 'ticket.live')}
              </p>
            </Card>
            {canWrite && open ? (
              <Card title={cx(page, 'ticket.reply')}>
                <form method="post" action={`${base}/reply`}>
                  <CsrfField page={page} />
                  <FormField label={cx(page, 'ticket.replyHint')} id="text" problems={view.problems}>
                    <textarea id="text" name="text" required maxlength={MAX_STAFF_MESSAGE_CHARS} style="max-width:none">
                      {view.text ?? ''}
                    </textarea>
                  </FormField>
                  <SubmitButton label={cx(page, 'ticket.send')} />
                </form>
                <label for="photo">{cx(page, 'ticket.photo', { mb: PHOTO_MAX_BYTES / 1024 / 1024 })}</label>
                <input
                  id="photo"
                  type="file"
                  accept="image/*"
                  data-url={`${base}/photo`}
                  data-csrf={page.csrfToken}
                  data-sending={cx(page, 'ticket.photoSending')}
                  data-sent={cx(page, 'ticket.photoSent')}
                  data-failed={cx(page, 'ticket.photoFailed')}
                />
                <span id="photo-status" class="muted" aria-live="polite"></span>
              </Card>
            ) : null}
          </div>
          <div>
            <Card title={cx(page, 'ticket.facts')}>
              <FactsTable
                labelWidth="40%"
                facts={[
                  [cx(page, 'ticket.customer'), <a href={`/console/customers/${d.customer.id}`}>{customerName(page, d.customer.name)}</a>],
                  d.customer.phone ? [cx(page, 'ticket.phone'), d.customer.phone] : null,
                  [cx(page, 'columns.category'), categoryLabel(page, d.category)],
                  [cx(page, 'ticket.priority'), cx(page, `priority.${d.priority}`)],
                  [cx(page, 'ticket.source'), `${cx(page, `source.${d.source}`)}${d.channel ? ` · ${page.t(`console-customers:channel.${d.channel}`)}` : ''}`],
                  [cx(page, 'ticket.visit'), d.visit ? d.visit.reference : cx(page, 'ticket.noVisit')],
                  [cx(page, 'ticket.contact'), cx(page, d.contactMethod === 'phone' ? 'ticket.contactPhone' : 'ticket.contactChat')],
                  [cx(page, 'columns.branch'), d.branch.name],
                  [cx(page, 'columns.opened'), formatTime(page, d.createdAt)],
                  [cx(page, 'ticket.firstResponse'), deadline('firstResponse')],
                  [cx(page, 'ticket.resolutionDue'), deadline('resolution')],
                  d.resolution ? [cx(page, 'ticket.resolution'), d.resolution] : null,
                  d.rating !== null ? [cx(page, 'ticket.rating'), '★'.repeat(d.rating)] : null,
                  d.reopenedCount > 0 ? [cx(page, 'ticket.reopened'), String(d.reopenedCount)] : null,
                ]}
              />
              {d.description ? (
                <>
                  <h2>{cx(page, 'ticket.words')}</h2>
                  <p style="white-space:pre-wrap">{d.description}</p>
                </>
              ) : null}
            </Card>
            {canWrite ? (
              <Card title={cx(page, 'ticket.assignee')}>
                <form method="post" action={`${base}/assign`} class="toolbar">
                  <CsrfField page={page} />
                  <select name="assignee" aria-label={cx(page, 'ticket.assignee')} style="max-width:240px">
                    {d.assignee ? null : <option value="">{cx(page, 'ticket.nobody')}</option>}
                    {assignable.map((s) => (
                      <option value={s.id} selected={s.id === d.assignee?.id}>
                        {`${s.name} · ${page.t(`roles.${s.role}`)}${s.onDuty ? ` · ${cx(page, 'duty.on')}` : ''}`}
                      </option>
                    ))}
                  </select>
                  <button type="submit" class="secondary">
                    {cx(page, 'ticket.assign')}
                  </button>
                </form>
              </Card>
            ) : null}
            {canWrite ? (
              <Card title={cx(page, 'ticket.note')}>
                <form method="post" action={`${base}/note`}>
                  <CsrfField page={page} />
                  <FormField label={cx(page, 'ticket.noteHint')} id="note" problems={view.problems}>
                    <textarea id="note" name="note" required maxlength={4000} style="max-width:none">
                      {view.note ?? ''}
                    </textarea>
                  </FormField>
                  <SubmitButton label={cx(page, 'ticket.addNote')} variant="secondary" />
                </form>
              </Card>
            ) : null}
            {canWrite && open ? (
              <Card title={cx(page, 'ticket.resolve')}>
                <form method="post" action={`${base}/resolve`}>
                  <CsrfField page={page} />
                  <FormField label={cx(page, 'ticket.resolutionHint')} id="resolution" problems={view.problems}>
                    <textarea id="resolution" name="resolution" required maxlength={2000} style="max-width:none">
                      {view.resolution ?? ''}
                    </textarea>
                  </FormField>
                  <SubmitButton label={cx(page, 'ticket.resolveButton')} />
                </form>
              </Card>
            ) : null}
            {canWrite ? (
              <Toolbar>
                {d.status !== 'closed' ? <PostButton page={page} action={`${base}/status`} hidden={{ status: 'closed' }} label={cx(page, 'ticket.close')} confirm={cx(page, 'ticket.closeConfirm')} /> : null}
                {d.status === 'resolved' || d.status === 'closed' ? <PostButton page={page} action={`${base}/status`} hidden={{ status: 'reopened' }} label={cx(page, 'ticket.reopen')} /> : null}
              </Toolbar>
            ) : null}
          </div>
        </div>
        <script>{raw(LIVE_SCRIPT)}</script>
      </>,
    );
  }

  const refused = (page: Page, c: Context<ConsoleEnv>, id: string, failure: CustomerFailure, view: Parameters<typeof ticket>[3] = {}) => {
    const { text, status } = failureOf(page, failure);
    const problems = failure.reason === 'invalid' ? problemsOf(page, failure.errors, (e) => `console-complaints:errors.${e.code}`) : undefined;
    return ticket(page, c, id, { ...view, problems, status, flash: { text, error: true } });
  };
  const done = (c: Context<ConsoleEnv>, id: string, flash: string) => c.redirect(`/console/complaints/${id}?flash=${flash}`, 303);

  pages.get('/console/complaints/:id', 'complaints.read', (page, c) => ticket(page, c, page.param('id')));

  pages.get('/console/complaints/:id/timeline.json', 'complaints.read', async (page, c) => {
    const after = Math.max(0, Math.floor(Number(c.req.query('after') ?? '0')) || 0);
    const update = await complaints.timelineAfter(page.principal, page.param('id'), after);
    if (!update) return c.json({ error: 'no such complaint' }, 404);
    c.header('Cache-Control', 'no-store');
    return c.json({
      entries: update.entries.map((e) => entryView(page, e)),
      status: update.status,
      statusLabel: cx(page, `status.${update.status}`),
      heldLabel: cx(page, update.heldByStaff ? 'ticket.conversationHeld' : 'ticket.conversationBot'),
      version: update.version,
    });
  });

  pages.post('/console/complaints/:id/take', 'complaints.write', async (page, c) => {
    const id = page.param('id');
    const taken = await complaints.take(page.action, id);
    if (!taken.ok) return refused(page, c, id, taken);
    ctx.onOutbox?.();
    return done(c, id, 'taken');
  });

  pages.post('/console/complaints/:id/assign', 'complaints.write', async (page, c) => {
    const id = page.param('id');
    const assigned = await complaints.assign(page.action, id, (await readForm(c)).get('assignee'));
    if (!assigned.ok) return refused(page, c, id, assigned);
    return done(c, id, 'assigned');
  });

  pages.post('/console/complaints/:id/note', 'complaints.write', async (page, c) => {
    const id = page.param('id');
    const form = await readForm(c);
    const noted = await complaints.note(page.action, id, form.raw('note'));
    if (!noted.ok) return refused(page, c, id, noted, { note: form.raw('note') });
    return done(c, id, 'noted');
  });

  pages.post('/console/complaints/:id/reply', 'complaints.write', async (page, c) => {
    const id = page.param('id');
    const form = await readForm(c);
    const sent = await complaints.reply(page.action, id, form.raw('text'));
    if (!sent.ok) return refused(page, c, id, sent, { text: form.raw('text') });
    ctx.onOutbox?.();
    return done(c, id, 'sent');
  });

  /** A photo for the customer, sent by the page's script as the request body (the console's form limit does not apply). */
  pages.post('/console/complaints/:id/photo', 'complaints.write', async (page, c) => {
    const id = page.param('id');
    if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('image/')) return c.json({ error: cx(page, 'errors.photoNotImage') }, 415);
    const declared = Number(c.req.header('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > PHOTO_MAX_BYTES) return c.json({ error: cx(page, 'errors.photoTooLarge', { mb: PHOTO_MAX_BYTES / 1024 / 1024 }) }, 413, { connection: 'close' });
    const body = c.req.raw.body;
    if (!body) return c.json({ error: cx(page, 'errors.photoNotImage') }, 400);
    const sent = await complaints.replyPhoto(page.action, id, body);
    if (!sent.ok) {
      const { text, status } = failureOf(page, sent);
      const tooLarge = sent.reason === 'invalid' && sent.errors.some((e) => e.code === 'photoTooLarge');
      return c.json({ error: text }, tooLarge ? 413 : status);
    }
    ctx.onOutbox?.();
    return c.json({ ok: true, channel: sent.value.channel });
  });

  pages.post('/console/complaints/:id/resolve', 'complaints.write', async (page, c) => {
    const id = page.param('id');
    const form = await readForm(c);
    const resolved = await complaints.resolve(page.action, id, form.raw('resolution'));
    if (!resolved.ok) return refused(page, c, id, resolved, { resolution: form.raw('resolution') });
    ctx.onOutbox?.();
    return done(c, id, 'resolved');
  });

  pages.post('/console/complaints/:id/status', 'complaints.write', async (page, c) => {
    const id = page.param('id');
    const status = (await readForm(c)).get('status');
    const changed = await complaints.setStatus(page.action, id, status);
    if (!changed.ok) return refused(page, c, id, changed);
    return done(c, id, changed.value.status === 'closed' ? 'closed' : 'reopened');
  });

  pages.post('/console/complaints/:id/handback', 'complaints.write', async (page, c) => {
    const id = page.param('id');
    const result = await complaints.returnToBot(page.action, id);
    if (!result.ok) return refused(page, c, id, result);
    if (result.value.notified) ctx.onOutbox?.();
    return done(c, id, result.value.notified ? 'handedBack' : 'handedBackSilent');
  });
}
