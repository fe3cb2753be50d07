import type { Context, Hono } from 'hono';
import { raw } from 'hono/html';
import type { MessageRow } from '../../store/schema';
import { isHeldByStaff, MAX_STAFF_MESSAGE_CHARS } from '../customers/conversation';
import { summariseReplies } from '../customers/delivery-problems';
import { replyTargets } from '../customers/profile';
import type { FieldError } from '../customers/result';
import { conversationStatus, ct, customerFlash, customerProblems, failureMessage, flowLabel, shortExternalId } from './customer-format';
import type { ConsoleContext } from './deps';
import { Card, ChannelBadge, consoleRoutes, CsrfField, customerName, DataTable, formatTime, FormField, notFoundPage, PostButton, readForm, shortId, Toolbar, SubmitButton, type ConsoleEnv, type Flash, type Page } from './kit';

/*
 * The live transcript of one customer, the staff reply form and "hand back to the bot".
 */

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

function lineOf(page: Page, m: MessageRow): TranscriptLine {
  const kindKey = `kind.${m.kind}`;
  const kindLabel = page.has(`console-customers:${kindKey}`) ? ct(page, kindKey) : m.kind;
  return {
    id: m.id,
    out: m.direction === 'out',
    sender: m.sender,
    senderLabel: ct(page, `sender.${m.sender}`),
    channelLabel: ct(page, `channel.${m.channel}`),
    time: formatTime(page, m.created_at),
    context: m.flow ? `${flowLabel(page, m.flow)}${m.step ? ` · ${m.step}` : ''}` : '',
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
    const name = customerName(page, customer.display_name);
    const { messages, undelivered } = await customers.transcript(customer.id);
    const targets = replyTargets(identities);
    const lastId = messages.length ? messages[messages.length - 1]!.id : 0;
    const selected = view.identityId ?? targets[0]?.id;
    const canReply = page.can('conversations.reply') && !erased;
    const problems = customerProblems(page, view.errors ?? []);

    return page.render(
      { title: `${name} · ${ct(page, 'conversation.title')}`, flash: view.flash ?? null, status: view.status },
      <>
        <style>{TRANSCRIPT_STYLES}</style>
        <h1>
          {ct(page, 'conversation.title')}: <a href={base}>{name}</a> <span class="muted">#{shortId(customer.id)}</span>
        </h1>
        <Toolbar>
          <span class={isHeldByStaff(conversation?.flow) ? 'badge warn' : 'badge'} id="conversation-status">
            {conversationStatus(page, conversation?.flow, conversation?.step)}
          </span>
          {identities.map((i) => (
            <ChannelBadge page={page} channel={i.channel} reachable={i.reachable === 1} />
          ))}
          {isHeldByStaff(conversation?.flow) && canReply ? <PostButton page={page} action={`${base}/handback`} label={ct(page, 'conversation.handback')} /> : null}
        </Toolbar>

        <Card>
          {messages.length >= 200 ? <p class="muted">{ct(page, 'conversation.latestOnly', { count: messages.length })}</p> : null}
          <div id="transcript" class="transcript" data-after={String(lastId)} data-poll={`${base}/messages.json`} aria-live="polite">
            {messages.length === 0 ? (
              <p class="muted" id="transcript-empty">
                {ct(page, 'conversation.empty')}
              </p>
            ) : null}
            {messages.map((m) => (
              <Line line={lineOf(page, m)} />
            ))}
          </div>
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

        {canReply ? (
          <Card title={ct(page, 'conversation.reply')}>
            {targets.length === 0 ? (
              <p class="muted">{ct(page, 'conversation.noChannel')}</p>
            ) : (
              <form method="post" action={`${base}/messages`}>
                <CsrfField page={page} />
                <FormField label={ct(page, 'conversation.message')} id="text" problems={problems}>
                  <textarea id="text" name="text" required maxlength={MAX_STAFF_MESSAGE_CHARS} style="max-width:none">
                    {view.text ?? ''}
                  </textarea>
                </FormField>
                <FormField label={ct(page, 'conversation.via')} id="identity" problems={problems}>
                  <select id="identity" name="identity">
                    {targets.map((t) => (
                      <option value={t.id} selected={t.id === selected}>
                        {`${ct(page, `channel.${t.channel}`)} · ${shortExternalId(t.external_id)} · ${ct(page, 'conversation.lastSeen', { time: formatTime(page, t.last_seen_at) })}`}
                      </option>
                    ))}
                  </select>
                </FormField>
                <SubmitButton label={ct(page, 'conversation.send')} />
              </form>
            )}
          </Card>
        ) : null}
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
    const after = Math.max(0, Math.floor(Number(c.req.query('after') ?? '0')) || 0);
    const update = await customers.transcriptAfter(page.param('id'), after);
    if (!update) return c.json({ error: 'no such customer' }, 404);
    c.header('Cache-Control', 'no-store');
    return c.json({
      messages: update.messages.map((m) => lineOf(page, m)),
      flow: update.flow,
      step: update.step,
      status: conversationStatus(page, update.flow, update.step),
      mergedInto: update.mergedInto,
    });
  });

  pages.post('/console/customers/:id/messages', 'conversations.reply', async (page, c) => {
    const id = page.param('id');
    const form = await readForm(c);
    const wanted = form.raw('channel');
    const channel = wanted === 'line' || wanted === 'telegram' || wanted === 'web' ? wanted : null;
    const result = await customers.sendMessage(page.action, id, { text: form.raw('text'), identityId: form.raw('identity') || null, channel });
    if (!result.ok) return refused(page, c, id, result, { text: form.raw('text'), identityId: form.raw('identity') || undefined, errors: result.reason === 'invalid' ? result.errors : [] });
    ctx.onOutbox?.();
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
