import type { Context, Hono } from 'hono';
import { raw } from 'hono/html';
import type { MessageRow } from '../../store/schema';
import { isHeldByStaff, MAX_STAFF_MESSAGE_CHARS } from '../customers/conversation';
import { summariseReplies } from '../customers/delivery-problems';
import { replyTargets } from '../customers/profile';
import type { FieldError } from '../customers/result';
import type { ConversationSidePanel } from '../customers/conversation';
import { conversationStatus, ct, customerFlash, customerProblems, failureMessage, shortExternalId, whereInFlow } from './customer-format';
import type { ConsoleContext } from './deps';
import { Card, ChannelBadge, consoleRoutes, CsrfField, customerName, DataTable, formatTime, FormField, notFoundPage, PostButton, readForm, Toolbar, SubmitButton, type ConsoleEnv, type Flash, type Page } from './kit';

/*
 * The live transcript of one customer, the staff reply form and "hand back to the bot".
 */

const TRANSCRIPT_STYLES = `
  .convo { display:grid; gap:16px; grid-template-columns:minmax(0,1fr); align-items:start; }
  @media (min-width:960px) { .convo { grid-template-columns:minmax(0,1fr) 300px; } .convo aside { position:sticky; top:12px; } }
  .convo .card { margin-bottom:0; }
  .transcript { display:flex; flex-direction:column; gap:8px; height:calc(100vh - 440px); min-height:200px; max-height:62vh; overflow-y:auto; padding:4px; }
  .msg { max-width:80%; padding:8px 12px; border-radius:12px; background:#fff; border:1px solid var(--line); }
  .msg.in { align-self:flex-start; }
  .msg.out { align-self:flex-end; background:#eef4fb; }
  .msg.staff { background:#e9f6ee; }
  .msg.pending { opacity:.65; }
  .msg.failed { border-color:var(--bad); background:#fdecea; }
  .msg.failed .meta span:last-child { color:var(--bad); font-weight:600; }
  .msg .meta { font-size:.78rem; color:var(--muted); display:flex; gap:6px; flex-wrap:wrap; align-items:center; margin-bottom:2px; }
  .msg .text { white-space:pre-wrap; overflow-wrap:anywhere; }
  .msg .text.kind { font-style:italic; color:var(--muted); }
  .reply { border-top:1px solid var(--line); margin-top:10px; padding-top:10px; }
  .reply textarea { max-width:none; min-height:64px; }
  .reply .row { display:flex; gap:8px; align-items:center; flex-wrap:wrap; margin-top:8px; }
  .reply .row select { flex:1; min-width:160px; max-width:360px; }
  .reply label { margin-top:0; }
  .reply-error { color:var(--bad); margin:6px 0 0; }
  aside h3 { font-size:.95rem; margin:14px 0 6px; }
  aside h3:first-of-type { margin-top:0; }
  aside ul { list-style:none; margin:0; padding:0; }
  aside li { padding:6px 0; border-bottom:1px solid var(--line); font-size:.9rem; }
  aside li:last-child { border-bottom:0; }
  aside .plate { font-family:ui-monospace,Menlo,Consolas,monospace; }
  @media (max-width:720px) { .msg { max-width:95%; } .transcript { height:calc(100vh - 600px); min-height:160px; } .reply .hint { display:none; } .reply textarea { min-height:56px; } .reply .row label { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; } .reply .row select { min-width:0; } }
`;
/** One transcript line as both the page and the polling script draw it. */
interface TranscriptLine {
  id: number;
  out: boolean;
  sender: string;
  senderLabel: string;
  channelLabel: string;
  time: string;
  context: string;
  text: string | null;
  kindLabel: string;
}

function lineOf(page: Page, m: MessageRow, staffNames: Record<string, string>): TranscriptLine {
  const kindKey = `kind.${m.kind}`;
  const kindLabel = page.has(`console-customers:${kindKey}`) ? ct(page, kindKey) : '';
  const signed = m.sender === 'staff' && m.staff_user_id ? staffNames[m.staff_user_id] : undefined;
  return {
    id: m.id,
    out: m.direction === 'out',
    sender: m.sender,
    // A staff line is signed with who wrote it, so a colleague taking over sees who said what.
    senderLabel: signed ? `${signed} (${ct(page, 'sender.staff')})` : ct(page, `sender.${m.sender}`),
    channelLabel: ct(page, `channel.${m.channel}`),
    time: formatTime(page, m.created_at),
    context: whereInFlow(page, m.flow, m.step),
    text: m.text,
    kindLabel,
  };
}

const Line = ({ line }: { line: TranscriptLine }) => (
  <div class={`msg ${line.out ? 'out' : 'in'} ${line.sender}`} data-id={String(line.id)}>
    <div class="meta">
      <span class="badge">{line.channelLabel}</span>
      <strong>{line.senderLabel}</strong>
      <span>{line.time}</span>
      {line.context ? <span>· {line.context}</span> : null}
    </div>
    {line.text ? <div class="text">{line.text}</div> : <div class="text kind">{line.kindLabel}</div>}
  </div>
);

/**
 * Polls for new transcript lines every 3 s and appends them, building elements with textContent so a
 * customer's words can never become markup; and sends the reply form without leaving the page (the line
 * shows at once as "sending" and is replaced by the delivered one). Without JavaScript the page still
 * works: the form posts and the page comes back with the message queued; reload to refresh.
 */
const POLL_SCRIPT = `(function () {
  var box = document.getElementById('transcript');
  var status = document.getElementById('conversation-status');
  if (!box || !window.fetch) return;
  var after = Number(box.getAttribute('data-after')) || 0;
  var url = box.getAttribute('data-poll');
  var pending = [];
  var busy = false;
  var timer = null;
  box.scrollTop = box.scrollHeight;
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; }
  function draw(m) {
    var row = el('div', 'msg ' + (m.out ? 'out ' : 'in ') + m.sender);
    row.setAttribute('data-id', String(m.id));
    var meta = el('div', 'meta');
    meta.appendChild(el('span', 'badge', m.channelLabel));
    meta.appendChild(el('strong', '', m.senderLabel));
    meta.appendChild(el('span', '', m.time));
    if (m.context) meta.appendChild(el('span', '', '\\u00b7 ' + m.context));
    row.appendChild(meta);
    row.appendChild(m.text ? el('div', 'text', m.text) : el('div', 'text kind', m.kindLabel));
    return row;
  }
  function showStatus(data) {
    if (!status || !data.status) return;
    status.textContent = data.status;
    status.className = 'badge' + (data.statusClass ? ' ' + data.statusClass : '');
  }
  function tick() {
    if (busy) return;
    busy = true;
    clearTimeout(timer);
    fetch(url + '?after=' + after, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
        var empty = document.getElementById('transcript-empty');
        (data.messages || []).forEach(function (m) {
          if (m.id <= after) return;
          if (empty) { empty.remove(); empty = null; }
          if (m.sender === 'staff' && m.text) {
            pending = pending.filter(function (p) {
              if (m.text.indexOf(p.text) === -1) return true;
              p.row.remove();
              return false;
            });
          }
          box.insertBefore(draw(m), pending.length ? pending[0].row : null);
          after = m.id;
        });
        // A line still being sent whose message was given up on says so, instead of "sending" for ever.
        (data.givenUp || []).forEach(function (text) {
          pending = pending.filter(function (p) {
            if (text.indexOf(p.text) === -1) return true;
            p.row.className = 'msg out staff failed';
            p.state.textContent = form ? form.getAttribute('data-given-up') || '' : '';
            return false;
          });
        });
        if (atBottom) box.scrollTop = box.scrollHeight;
        showStatus(data);
      })
      .catch(function () {})
      .then(function () { busy = false; timer = setTimeout(tick, pending.length ? 1000 : 3000); });
  }
  timer = setTimeout(tick, 3000);

  var form = document.getElementById('reply-form');
  var text = document.getElementById('text');
  var error = document.getElementById('reply-error');
  if (!form || !text) return;
  var sendButton = form.querySelector('button[type=submit]');
  text.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (form.requestSubmit) form.requestSubmit(); else form.submit(); }
  });
  form.addEventListener('submit', function (e) {
    if (!text.value.trim()) return;
    e.preventDefault();
    var said = text.value.trim();
    var body = new URLSearchParams(new FormData(form));
    var row = el('div', 'msg out staff pending');
    var meta = el('div', 'meta');
    meta.appendChild(el('strong', '', form.getAttribute('data-me') || ''));
    var state = el('span', '', form.getAttribute('data-sending') || '');
    meta.appendChild(state);
    row.appendChild(meta);
    row.appendChild(el('div', 'text', said));
    if (error) { error.hidden = true; error.textContent = ''; }
    if (sendButton) sendButton.disabled = true;
    fetch(form.action, { method: 'POST', credentials: 'same-origin', headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
      .then(function (res) {
        if (!res.ok) throw new Error(res.data && res.data.error ? res.data.error : '');
        var empty = document.getElementById('transcript-empty');
        if (empty) empty.remove();
        box.appendChild(row);
        pending.push({ text: said, row: row, state: state });
        box.scrollTop = box.scrollHeight;
        text.value = '';
        showStatus(res.data);
        tick();
      })
      .catch(function (err) {
        if (error) { error.textContent = (err && err.message) || form.getAttribute('data-failed') || ''; error.hidden = false; }
      })
      .then(function () { if (sendButton) sendButton.disabled = false; text.focus(); });
  });
})();`;

/** The status badge's colour: amber while a customer waits for a person, green once someone answers. */
function statusClass(flow: string | null | undefined, answeredBy: string | null | undefined): '' | 'warn' | 'ok' {
  if (!isHeldByStaff(flow)) return '';
  return answeredBy ? 'ok' : 'warn';
}

const bookingTimes = new Map<string, Intl.DateTimeFormat>();
/** A booking's time in its branch's zone, written the staff member's way. */
function bookingTime(page: Page, iso: string, timeZone: string): string {
  const key = `${page.locale}|${timeZone}`;
  let f = bookingTimes.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(page.locale, { timeZone, weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    bookingTimes.set(key, f);
  }
  return f.format(new Date(iso));
}

/** Beside the chat: the customer's bookings, cars and car in the workshop, so staff answer without looking elsewhere. */
function SidePanel({ page, panel, profileHref }: { page: Page; panel: ConversationSidePanel; profileHref: string }) {
  const canBookings = page.can('appointments.read');
  const canOrders = page.can('repair_orders.read');
  return (
    <aside class="card" aria-label={ct(page, 'panel.title')}>
      <h3>{ct(page, 'panel.repairOrders')}</h3>
      {panel.repairOrders.length === 0 ? (
        <p class="muted">{ct(page, 'panel.noRepairOrders')}</p>
      ) : (
        <ul>
          {panel.repairOrders.map((o) => (
            <li>
              {canOrders ? <a href={`/console/repair-orders/${o.id}`}>{o.number}</a> : o.number} <span class="badge warn">{page.t(`console-repair-orders:status.${o.status}`)}</span>
              <div class="muted">
                {o.plate ? <span class="plate">{o.plate}</span> : null}
                {o.promisedAt ? ` · ${ct(page, 'panel.promised', { time: formatTime(page, o.promisedAt) })}` : ''}
              </div>
            </li>
          ))}
        </ul>
      )}
      <h3>{ct(page, 'panel.bookings')}</h3>
      {panel.bookings.length === 0 ? (
        <p class="muted">{ct(page, 'panel.noBookings')}</p>
      ) : (
        <ul>
          {panel.bookings.map((b) => (
            <li>
              {canBookings ? <a href={`/console/appointments/${b.id}`}>{bookingTime(page, b.startsAt, b.timeZone)}</a> : bookingTime(page, b.startsAt, b.timeZone)}{' '}
              <span class="badge">{page.t(`console-booking:status.${b.status}`)}</span>
              <div>{b.service}</div>
              <div class="muted">
                {b.reference}
                {b.plate ? (
                  <>
                    {' · '}
                    <span class="plate">{b.plate}</span>
                  </>
                ) : null}
                {` · ${b.branchName}`}
              </div>
            </li>
          ))}
        </ul>
      )}
      <h3>{ct(page, 'panel.vehicles')}</h3>
      {panel.vehicles.length === 0 ? (
        <p class="muted">{ct(page, 'panel.noVehicles')}</p>
      ) : (
        <ul>
          {panel.vehicles.map((v) => (
            <li>
              <span class="plate">{v.plate}</span> {[v.make, v.model, v.year].filter((x) => x !== null && x !== '').join(' ')}
              {v.mileageKm !== null ? <div class="muted">{ct(page, 'panel.mileage', { km: v.mileageKm.toLocaleString(page.locale) })}</div> : null}
            </li>
          ))}
        </ul>
      )}
      <p style="margin:10px 0 0">
        <a href={profileHref}>{ct(page, 'panel.profile')}</a>
      </p>
    </aside>
  );
}

interface ConversationView {
  status?: 200 | 400 | 404 | 409;
  flash?: Flash | null;
  text?: string;
  identityId?: string;
  errors?: FieldError[];
}

/** The live transcript of one customer, the staff reply form and "hand back to the bot". */
export function registerConversationPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const { customers } = ctx.services;
  const pages = consoleRoutes(app, ctx);

  async function render(page: Page, c: Context<ConsoleEnv>, id: string, view: ConversationView = {}): Promise<Response> {
    const loaded = await customers.profile(id);
    if (!loaded.ok) {
      if (loaded.reason === 'merged') return c.redirect(`/console/customers/${loaded.mergedInto}/conversation`, 302);
      return notFoundPage(page, { title: ct(page, 'conversation.title'), text: ct(page, 'conflict.notFound'), back: { href: '/console/customers', label: ct(page, 'profile.backToList') } });
    }
    const { customer, conversation, identities } = loaded.value;
    const erased = customer.erased_at !== null;
    const base = `/console/customers/${customer.id}`;
    const name = customerName(page, customer.display_name ?? identities.find((i) => i.display_name)?.display_name ?? null);
    const [{ messages, undelivered, staffNames, answeredBy }, panel] = await Promise.all([customers.transcript(customer.id), customers.sidePanel(page.principal, customer.id, { now: page.action.now, locale: page.locale })]);
    const targets = replyTargets(identities);
    const lastId = messages.length ? messages[messages.length - 1]!.id : 0;
    const selected = view.identityId ?? targets[0]?.id;
    const canReply = page.can('conversations.reply') && !erased;
    const problems = customerProblems(page, view.errors ?? []);
    const held = isHeldByStaff(conversation?.flow);

    return page.render(
      { title: `${name} · ${ct(page, 'conversation.title')}`, flash: view.flash ?? null, status: view.status },
      <>
        <style>{TRANSCRIPT_STYLES}</style>
        <h1>
          {ct(page, 'conversation.title')}: <a href={base}>{name}</a>
          {customer.phone ? <span class="muted" style="font-weight:400;font-size:1rem"> {customer.phone}</span> : null}
        </h1>
        <Toolbar>
          <span class={statusClass(conversation?.flow, answeredBy) ? `badge ${statusClass(conversation?.flow, answeredBy)}` : 'badge'} id="conversation-status">
            {conversationStatus(page, conversation?.flow, conversation?.step, answeredBy)}
          </span>
          {identities.map((i) => (
            <ChannelBadge page={page} channel={i.channel} reachable={i.reachable === 1} />
          ))}
          {held && canReply ? <PostButton page={page} action={`${base}/handback`} label={ct(page, 'conversation.handback')} /> : null}
        </Toolbar>

        <div class="convo">
          <div>
            <Card>
              {messages.length >= 200 ? <p class="muted">{ct(page, 'conversation.latestOnly', { count: messages.length })}</p> : null}
              <div id="transcript" class="transcript" data-after={String(lastId)} data-poll={`${base}/messages.json`} aria-live="polite">
                {messages.length === 0 ? (
                  <p class="muted" id="transcript-empty">
                    {ct(page, 'conversation.empty')}
                  </p>
                ) : null}
                {messages.map((m) => (
                  <Line line={lineOf(page, m, staffNames)} />
                ))}
              </div>
              {canReply ? (
                <div class="reply">
                  {targets.length === 0 ? (
                    <p class="muted">{ct(page, 'conversation.noChannel')}</p>
                  ) : (
                    <form
                      id="reply-form"
                      method="post"
                      action={`${base}/messages`}
                      data-me={`${page.principal.name} (${ct(page, 'sender.staff')})`}
                      data-sending={ct(page, 'conversation.sending')}
                      data-failed={ct(page, 'conversation.sendFailed')}
                      data-given-up={ct(page, 'outbox.status.dead')}
                    >
                      <CsrfField page={page} />
                      <FormField label={ct(page, 'conversation.reply')} id="text" problems={problems}>
                        <textarea id="text" name="text" required rows={2} maxlength={MAX_STAFF_MESSAGE_CHARS}>
                          {view.text ?? ''}
                        </textarea>
                      </FormField>
                      <div class="row">
                        <label for="identity" class="muted">
                          {ct(page, 'conversation.via')}
                        </label>
                        <select id="identity" name="identity">
                          {targets.map((t) => (
                            <option value={t.id} selected={t.id === selected}>
                              {`${ct(page, `channel.${t.channel}`)} · ${t.display_name ?? shortExternalId(t.external_id)} · ${ct(page, 'conversation.lastSeen', { time: formatTime(page, t.last_seen_at) })}`}
                            </option>
                          ))}
                        </select>
                        <SubmitButton label={ct(page, 'conversation.send')} />
                        <span class="muted hint" style="font-size:.8rem">{ct(page, 'conversation.sendHint')}</span>
                      </div>
                      {problems
                        .filter((p) => p.field === 'identity')
                        .map((p) => (
                          <p class="reply-error">{p.text}</p>
                        ))}
                      <p id="reply-error" class="reply-error" role="alert" hidden></p>
                    </form>
                  )}
                </div>
              ) : null}
              <p class="muted" style="font-size:.8rem;margin:6px 0 0">
                {ct(page, 'conversation.live')}
              </p>
            </Card>

            {undelivered.length > 0 ? (
              <Card title={ct(page, 'conversation.undelivered')}>
                <DataTable
                  scroll={false}
                  rows={undelivered}
                  columns={[
                    { cell: (u) => <span class={u.status === 'dead' ? 'badge bad' : 'badge warn'} style="white-space:nowrap">{ct(page, `outbox.status.${u.status}`)}</span> },
                    { cell: (u) => ct(page, `channel.${u.channel}`) },
                    { style: 'white-space:pre-wrap', cell: (u) => summariseReplies(u.payload).join('\n') },
                    { class: 'muted', cell: (u) => u.last_error ?? '' },
                    { class: 'muted', cell: (u) => formatTime(page, u.created_at) },
                  ]}
                />
              </Card>
            ) : null}
          </div>
          <SidePanel page={page} panel={panel} profileHref={base} />
        </div>
        <script>{raw(POLL_SCRIPT)}</script>
      </>,
    );
  }

  /** A refused post: a merged profile leads to the kept one's conversation; anything else shows the reason. */
  const refused = (page: Page, c: Context<ConsoleEnv>, id: string, failure: Parameters<typeof failureMessage>[1], view: ConversationView = {}) => {
    if (failure.reason === 'merged') return c.redirect(`/console/customers/${failure.mergedInto}/conversation`, 303);
    const { text, status } = failureMessage(page, failure);
    return render(page, c, id, { ...view, status, flash: { text, error: true } });
  };

  pages.get('/console/customers/:id/conversation', 'conversations.read', (page, c) => render(page, c, page.param('id'), { flash: customerFlash(page) }));

  pages.get('/console/customers/:id/messages.json', 'conversations.read', async (page, c) => {
    // Message ids are 32-bit integers in Postgres: a larger `after` would be refused by the database.
    const after = Math.min(2_147_483_647, Math.max(0, Math.floor(Number(c.req.query('after') ?? '0')) || 0));
    const update = await customers.transcriptAfter(page.param('id'), after);
    if (!update) return c.json({ error: 'no such customer' }, 404);
    c.header('Cache-Control', 'no-store');
    return c.json({
      messages: update.messages.map((m) => lineOf(page, m, update.staffNames)),
      flow: update.flow,
      step: update.step,
      status: conversationStatus(page, update.flow, update.step, update.answeredBy),
      statusClass: statusClass(update.flow, update.answeredBy),
      givenUp: update.givenUp.map((u) => summariseReplies(u.payload).join('\n')),
      mergedInto: update.mergedInto,
    });
  });

  pages.post('/console/customers/:id/messages', 'conversations.reply', async (page, c) => {
    const id = page.param('id');
    const form = await readForm(c);
    const wanted = form.raw('channel');
    const channel = wanted === 'line' || wanted === 'telegram' || wanted === 'web' ? wanted : null;
    const result = await customers.sendMessage(page.action, id, { text: form.raw('text'), identityId: form.raw('identity') || null, channel });
    // The page's script sends without leaving the page and asks for JSON; a plain form post gets a page.
    const wantsJson = (c.req.header('accept') ?? '').includes('application/json');
    if (!result.ok) {
      if (wantsJson) {
        if (result.reason === 'merged') return c.json({ error: failureMessage(page, result).text, mergedInto: result.mergedInto }, 409);
        const { text, status } = failureMessage(page, result);
        return c.json({ error: text }, status);
      }
      return refused(page, c, id, result, { text: form.raw('text'), identityId: form.raw('identity') || undefined, errors: result.reason === 'invalid' ? result.errors : [] });
    }
    ctx.onOutbox?.();
    if (wantsJson) {
      const now = await customers.standing(id);
      return c.json({ ok: true, channel: result.value.channel, status: conversationStatus(page, now.flow, now.step, now.answeredBy), statusClass: statusClass(now.flow, now.answeredBy) }, 200);
    }
    return c.redirect(`/console/customers/${id}/conversation?flash=sent`, 303);
  });

  pages.post('/console/customers/:id/handback', 'conversations.reply', async (page, c) => {
    const id = page.param('id');
    const result = await customers.handBack(page.action, id);
    if (!result.ok) return refused(page, c, id, result);
    if (result.value.notified) ctx.onOutbox?.();
    return c.redirect(`/console/customers/${id}/conversation?flash=${result.value.notified ? 'handedBack' : 'handedBackSilent'}`, 303);
  });
}
