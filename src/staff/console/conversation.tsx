import type { Context, Hono } from 'hono';
import { raw } from 'hono/html';
import type { MessageRow } from '../../store/schema';
import { actionContext, consoleRoute, type StaffEnv } from '../guard';
import { handBackToBot, HANDOFF_FLOW, latestMessages, MAX_STAFF_MESSAGE_CHARS, sendStaffMessage, undeliveredStaffMessages } from '../customers/conversation';
import { summariseReplies } from '../customers/delivery-problems';
import { loadCustomerProfile, replyTargets } from '../customers/profile';
import type { FieldError } from '../customers/result';
import { messagesAfter } from '../../store/transcript';
import { ChannelBadge, conversationStatus, ct, customerName, failureMessage, fieldErrorText, flashFrom, flowLabel, formatTime, formOf, pathParam, shortExternalId, shortId, type CustomerPagesDeps } from './customer-format';
import { CsrfField, Layout, pageOf, type ConsoleDeps, type Page } from './layout';

const TRANSCRIPT_STYLES = `
  .transcript { display:flex; flex-direction:column; gap:8px; max-height:62vh; overflow-y:auto; padding:4px; }
  .msg { max-width:80%; padding:8px 12px; border-radius:12px; background:#fff; border:1px solid var(--line); }
  .msg.in { align-self:flex-start; }
  .msg.out { align-self:flex-end; background:#eef4fb; }
  .msg.staff { background:#e9f6ee; }
  .msg .meta { font-size:.78rem; color:var(--muted); display:flex; gap:6px; flex-wrap:wrap; align-items:center; margin-bottom:2px; }
  .msg .text { white-space:pre-wrap; overflow-wrap:anywhere; }
  .msg .text.kind { font-style:italic; color:var(--muted); }
  @media (max-width:720px) { .msg { max-width:95%; } }
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

function lineOf(page: Page, deps: ConsoleDeps, m: MessageRow): TranscriptLine {
  const kindKey = `kind.${m.kind}`;
  const kindLabel = deps.translator.has(page.locale, `console-customers:${kindKey}`) ? ct(page, kindKey) : m.kind;
  return {
    id: m.id,
    out: m.direction === 'out',
    sender: m.sender,
    senderLabel: ct(page, `sender.${m.sender}`),
    channelLabel: ct(page, `channel.${m.channel}`),
    time: formatTime(page, deps, m.created_at),
    context: m.flow ? `${flowLabel(page, deps, m.flow)}${m.step ? ` · ${m.step}` : ''}` : '',
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
 * customer's words can never become markup. Without JavaScript the page still works: reload to refresh.
 */
const POLL_SCRIPT = `(function () {
  var box = document.getElementById('transcript');
  var status = document.getElementById('conversation-status');
  if (!box || !window.fetch) return;
  var after = Number(box.getAttribute('data-after')) || 0;
  var url = box.getAttribute('data-poll');
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
  function tick() {
    fetch(url + '?after=' + after, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
        var empty = document.getElementById('transcript-empty');
        (data.messages || []).forEach(function (m) {
          if (m.id <= after) return;
          if (empty) { empty.remove(); empty = null; }
          box.appendChild(draw(m));
          after = m.id;
        });
        if (atBottom) box.scrollTop = box.scrollHeight;
        if (status && data.status) status.textContent = data.status;
      })
      .catch(function () {})
      .then(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 3000);
})();`;

interface ConversationView {
  status?: 200 | 400 | 404 | 409;
  flash?: { text: string; error?: boolean } | null;
  text?: string;
  identityId?: string;
  errors?: FieldError[];
}

async function renderConversation(c: Context<StaffEnv>, deps: CustomerPagesDeps, id: string, view: ConversationView = {}): Promise<Response> {
  const page = pageOf(c, deps);
  const loaded = await loadCustomerProfile(deps.store.db, id);
  if (!loaded.ok) {
    if (loaded.reason === 'merged') return c.redirect(`/console/customers/${loaded.mergedInto}/conversation`, 302);
    return c.html(
      <Layout page={page} title={ct(page, 'conversation.title')} flash={{ text: ct(page, 'conflict.notFound'), error: true }}>
        <p>
          <a href="/console/customers">{ct(page, 'profile.backToList')}</a>
        </p>
      </Layout>,
      404,
    );
  }
  const { customer, conversation, identities } = loaded.value;
  const erased = customer.erased_at !== null;
  const base = `/console/customers/${customer.id}`;
  const name = customerName(page, customer.display_name);
  const messages = await latestMessages(deps.store.db, customer.id);
  const undelivered = await undeliveredStaffMessages(deps.store.db, customer.id);
  const targets = replyTargets(identities);
  const lastId = messages.length ? messages[messages.length - 1]!.id : 0;
  const selected = view.identityId ?? targets[0]?.id;

  return c.html(
    <Layout page={page} title={`${name} · ${ct(page, 'conversation.title')}`} flash={view.flash ?? null}>
      <style>{TRANSCRIPT_STYLES}</style>
      <h1>
        {ct(page, 'conversation.title')}: <a href={base}>{name}</a> <span class="muted">#{shortId(customer.id)}</span>
      </h1>
      <div class="toolbar">
        <span class={conversation?.flow === HANDOFF_FLOW ? 'badge warn' : 'badge'} id="conversation-status">
          {conversationStatus(page, deps, conversation?.flow, conversation?.step)}
        </span>
        {identities.map((i) => (
          <ChannelBadge page={page} channel={i.channel} reachable={i.reachable === 1} />
        ))}
        {conversation?.flow === HANDOFF_FLOW && page.can('conversations.reply') && !erased ? (
          <form class="inline" method="post" action={`${base}/handback`}>
            <CsrfField page={page} />
            <button class="secondary" type="submit">
              {ct(page, 'conversation.handback')}
            </button>
          </form>
        ) : null}
      </div>

      <div class="card">
        {messages.length >= 200 ? <p class="muted">{ct(page, 'conversation.latestOnly', { count: messages.length })}</p> : null}
        <div id="transcript" class="transcript" data-after={String(lastId)} data-poll={`${base}/messages.json`} aria-live="polite">
          {messages.length === 0 ? (
            <p class="muted" id="transcript-empty">
              {ct(page, 'conversation.empty')}
            </p>
          ) : null}
          {messages.map((m) => (
            <Line line={lineOf(page, deps, m)} />
          ))}
        </div>
        <p class="muted" style="font-size:.8rem;margin:6px 0 0">
          {ct(page, 'conversation.live')}
        </p>
      </div>

      {undelivered.length > 0 ? (
        <div class="card">
          <h2 style="margin-top:0">{ct(page, 'conversation.undelivered')}</h2>
          <table>
            <tbody>
              {undelivered.map((u) => (
                <tr>
                  <td>
                    <span class={u.status === 'dead' ? 'badge bad' : 'badge warn'} style="white-space:nowrap">{ct(page, `outbox.status.${u.status}`)}</span>
                  </td>
                  <td>{ct(page, `channel.${u.channel}`)}</td>
                  <td style="white-space:pre-wrap">{summariseReplies(u.payload).join('\n')}</td>
                  <td class="muted">{u.last_error ?? ''}</td>
                  <td class="muted">{formatTime(page, deps, u.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      {page.can('conversations.reply') && !erased ? (
        <div class="card">
          <h2 style="margin-top:0">{ct(page, 'conversation.reply')}</h2>
          {targets.length === 0 ? (
            <p class="muted">{ct(page, 'conversation.noChannel')}</p>
          ) : (
            <form method="post" action={`${base}/messages`}>
              <CsrfField page={page} />
              <label for="text">{ct(page, 'conversation.message')}</label>
              <textarea id="text" name="text" required maxlength={MAX_STAFF_MESSAGE_CHARS} style="max-width:none">
                {view.text ?? ''}
              </textarea>
              {view.errors?.filter((e) => e.field === 'text').map((e) => (
                <div style="color:var(--bad);font-size:.85rem">{fieldErrorText(page, e)}</div>
              ))}
              <label for="identity">{ct(page, 'conversation.via')}</label>
              <select id="identity" name="identity">
                {targets.map((t) => (
                  <option value={t.id} selected={t.id === selected}>
                    {`${ct(page, `channel.${t.channel}`)} · ${shortExternalId(t.external_id)} · ${ct(page, 'conversation.lastSeen', { time: formatTime(page, deps, t.last_seen_at) })}`}
                  </option>
                ))}
              </select>
              {view.errors?.filter((e) => e.field === 'identity').map((e) => (
                <div style="color:var(--bad);font-size:.85rem">{fieldErrorText(page, e)}</div>
              ))}
              <p>
                <button type="submit">{ct(page, 'conversation.send')}</button>
              </p>
            </form>
          )}
        </div>
      ) : null}
      <script>{raw(POLL_SCRIPT)}</script>
    </Layout>,
    view.status ?? 200,
  );
}

/** The live transcript of one customer, the staff reply form and "hand back to the bot". */
export function registerConversationPages(app: Hono<StaffEnv>, deps: CustomerPagesDeps): void {
  const { registry } = deps;

  consoleRoute(app, registry, deps, 'GET', '/console/customers/:id/conversation', 'conversations.read', async (c) => {
    const page = pageOf(c, deps);
    return renderConversation(c, deps, pathParam(c, 'id'), { flash: flashFrom(page, c.req.query('flash')) });
  });

  consoleRoute(app, registry, deps, 'GET', '/console/customers/:id/messages.json', 'conversations.read', async (c) => {
    const page = pageOf(c, deps);
    const id = pathParam(c, 'id');
    const customer = await deps.store.db.selectFrom('customers').select(['id', 'merged_into_id']).where('id', '=', id).executeTakeFirst();
    if (!customer) return c.json({ error: 'no such customer' }, 404);
    const after = Math.max(0, Math.floor(Number(c.req.query('after') ?? '0')) || 0);
    const [messages, conversation] = await Promise.all([
      messagesAfter(deps.store.db, id, after, 200),
      deps.store.db.selectFrom('conversations').select(['flow', 'step']).where('customer_id', '=', id).executeTakeFirst(),
    ]);
    c.header('Cache-Control', 'no-store');
    return c.json({
      messages: messages.map((m) => lineOf(page, deps, m)),
      flow: conversation?.flow ?? null,
      step: conversation?.step ?? null,
      status: conversationStatus(page, deps, conversation?.flow, conversation?.step),
      mergedInto: customer.merged_into_id,
    });
  });

  consoleRoute(app, registry, deps, 'POST', '/console/customers/:id/messages', 'conversations.reply', async (c) => {
    const id = pathParam(c, 'id');
    const form = await formOf(c);
    const channel = form.channel === 'line' || form.channel === 'telegram' || form.channel === 'web' ? form.channel : null;
    const result = await sendStaffMessage(deps.store, actionContext(c, deps.clock), id, { text: form.text ?? '', identityId: form.identity || null, channel });
    if (!result.ok) {
      if (result.reason === 'merged') return c.redirect(`/console/customers/${result.mergedInto}/conversation`, 303);
      const { text, status } = failureMessage(pageOf(c, deps), result);
      return renderConversation(c, deps, id, { status, flash: { text, error: true }, text: form.text, identityId: form.identity, errors: result.reason === 'invalid' ? result.errors : [] });
    }
    deps.onOutbox?.();
    return c.redirect(`/console/customers/${id}/conversation?flash=sent`, 303);
  });

  consoleRoute(app, registry, deps, 'POST', '/console/customers/:id/handback', 'conversations.reply', async (c) => {
    const id = pathParam(c, 'id');
    const result = await handBackToBot(deps.store, actionContext(c, deps.clock), id, { menuChoices: deps.menuChoices });
    if (!result.ok) {
      if (result.reason === 'merged') return c.redirect(`/console/customers/${result.mergedInto}/conversation`, 303);
      const { text, status } = failureMessage(pageOf(c, deps), result);
      return renderConversation(c, deps, id, { status, flash: { text, error: true } });
    }
    if (result.value.notified) deps.onOutbox?.();
    return c.redirect(`/console/customers/${id}/conversation?flash=${result.value.notified ? 'handedBack' : 'handedBackSilent'}`, 303);
  });
}
