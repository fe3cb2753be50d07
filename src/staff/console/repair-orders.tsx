import type { Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import { localDateOf, localTimeOf } from '../../domain/local-time';
import { formatMoney, parseAmount } from '../../repair-orders/money';
import { nextStatus, OPEN_STATUSES, REPAIR_ORDER_STATUSES } from '../../repair-orders/statuses';
import type { ItemUrgency, RepairOrderStatus } from '../../store/schema';
import { localInputToIso, type BoardCard, type ItemInput, type RepairOrder, type RepairOrderDetail } from '../repair-orders';
import type { FieldError, Result } from '../result';
import { safeBack } from './appointments-format';
import type { ConsoleContext } from './deps';
import {
  ButtonLink,
  Card,
  CheckboxField,
  consoleRoutes,
  CsrfField,
  CustomerPicker,
  customerName,
  DataTable,
  FactsTable,
  FieldErrors,
  flashNote,
  FormField,
  formatTime,
  notFoundPage,
  PostButton,
  problemsFlash,
  problemsOf,
  readForm,
  RecordToolbar,
  SubmitButton,
  textsOf,
  Toolbar,
  type ConsoleEnv,
  type Flash,
  type FormValues,
  type Page,
  type Problem,
} from './kit';

/*
 * The workshop's repair orders: a board per branch with a column per status and a button to move each
 * car on; an order's page with its timeline, the added items and the customer's answers (refreshed while
 * it is open), the notices and how their delivery went, and what an advisor must do by hand; a form for a
 * car that came without an appointment; and the branch's settings (which statuses the customer is told
 * about, the currency, when an unanswered request is chased).
 */

const rt = textsOf('console-repair-orders');
const FLASHES = ['moved', 'saved', 'itemsSent', 'decided', 'resolved', 'opened', 'settingsSaved'] as const;
/** Rows of the added-items form; a request holds at most 20 items, sent in as many goes as needed. */
const ITEM_ROWS = 5;
const BOARD = '/console/repair-orders';

const STATUS_CLASS: Record<RepairOrderStatus, string> = {
  checked_in: 'badge',
  diagnosing: 'badge',
  awaiting_approval: 'badge warn',
  in_progress: 'badge',
  quality_check: 'badge',
  ready: 'badge ok',
  collected: 'badge ok',
  cancelled: 'badge bad',
};

export const RepairStatusBadge: FC<{ page: Page; status: RepairOrderStatus }> = ({ page, status }) => <span class={STATUS_CLASS[status]}>{rt(page, `status.${status}`)}</span>;

const boardHref = (branchId: string, mine = false) => `${BOARD}?${new URLSearchParams({ branch: branchId, ...(mine ? { mine: '1' } : {}) }).toString()}`;

/** A local 'YYYY-MM-DDTHH:mm' for a datetime-local field, in the branch's zone. */
function localInput(iso: string | null, timeZone: string): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  return `${localDateOf(ms, timeZone)}T${localTimeOf(ms, timeZone)}`;
}

function displayNumber(o: RepairOrder): string {
  return o.dmsNumber ?? o.number;
}

function amountText(page: Page, currency: string, minor: number | null): string {
  return minor === null ? '—' : formatMoney(page.locale, currency, minor);
}

/** A refused change, in the staff member's language. */
function failureFlash(page: Page, result: Exclude<Result<unknown>, { ok: true }>): { flash: Flash; problems: Problem[]; status: 400 | 404 | 409 } {
  if (result.reason === 'invalid') {
    const problems = problemsOf(page, result.errors, (e) => `console-repair-orders:errors.${e.code}`);
    return { flash: problemsFlash(page, problems), problems, status: 400 };
  }
  if (result.reason === 'not_found') return { flash: { text: rt(page, 'notFound'), error: true }, problems: [], status: 404 };
  return { flash: { text: rt(page, `refused.${result.code}`), error: true }, problems: [], status: 409 };
}

const AlertsList: FC<{ page: Page; detail: RepairOrderDetail }> = ({ page, detail }) => {
  const open = detail.alerts.filter((a) => !a.resolvedAt);
  if (open.length === 0) return null;
  const phone = detail.customer.phone;
  return (
    <div class="card" style="border-color:#f3c0b8;background:#fff7f5">
      <h2 style="margin-top:0">{rt(page, 'alerts.title')}</h2>
      {open.map((a) => (
        <div class="toolbar" style="justify-content:space-between" data-alert={a.kind}>
          <span>
            <strong>{rt(page, `alerts.${a.kind}`)}</strong>
            {phone ? (
              <>
                {' · '}
                <a href={`tel:${phone}`}>{phone}</a>
              </>
            ) : (
              <span class="muted"> · {rt(page, 'alerts.noPhone')}</span>
            )}
            {a.details?.['error'] ? <span class="muted"> · {String(a.details['error'])}</span> : null}
            <span class="muted"> · {formatTime(page, a.createdAt)}</span>
          </span>
          {page.can('repair_orders.write') ? <PostButton page={page} small action={`${BOARD}/alerts/${a.id}/resolve`} hidden={{ back: `${BOARD}/${detail.order.id}` }} label={rt(page, 'alerts.done')} /> : null}
        </div>
      ))}
    </div>
  );
};

const DecisionBadge: FC<{ page: Page; decision: string | null }> = ({ page, decision }) => (
  <span class={decision === 'approved' ? 'badge ok' : decision === 'declined' ? 'badge bad' : 'badge warn'}>{rt(page, `decision.${decision ?? 'pending'}`)}</span>
);

/** What changes while the page is open: alerts, items and answers, notices, the timeline. The page refreshes it. */
const LiveSection: FC<{ page: Page; detail: RepairOrderDetail }> = ({ page, detail }) => {
  const d = detail;
  const canWrite = page.can('repair_orders.write');
  const stamp = [d.order.version, d.items.filter((i) => i.decision).length, d.timeline.length, d.notices.map((n) => `${n.state}${n.delivery?.state ?? ''}`).join(''), d.alerts.filter((a) => !a.resolvedAt).length].join('.');
  return (
    <div id="live" data-stamp={stamp}>
      <AlertsList page={page} detail={d} />
      <Card title={rt(page, 'items.title')}>
        <DataTable
          rows={d.items}
          empty={rt(page, 'items.none')}
          columns={[
            { label: '#', cell: (i) => String(i.position) },
            {
              label: rt(page, 'items.description'),
              cell: (i) => (
                <>
                  {i.description}
                  {i.photoUrl ? (
                    <>
                      {' '}
                      <a href={i.photoUrl} target="_blank" rel="noopener">
                        {rt(page, 'items.photo')}
                      </a>
                    </>
                  ) : null}
                </>
              ),
            },
            { label: rt(page, 'items.price'), style: 'white-space:nowrap', cell: (i) => formatMoney(page.locale, d.currency, i.price) },
            { label: rt(page, 'items.urgency'), cell: (i) => rt(page, `urgency.${i.urgency}`) },
            {
              label: rt(page, 'items.answer'),
              cell: (i) => (
                <>
                  <DecisionBadge page={page} decision={i.decision} />
                  {i.decidedAt ? (
                    <div class="muted" style="font-size:.85rem">
                      {formatTime(page, i.decidedAt)} · {rt(page, `via.${i.decidedVia ?? 'web'}`)} · {i.decidedBy?.label ?? ''}
                      {i.note ? ` · ${i.note}` : ''}
                    </div>
                  ) : null}
                  {i.shownText ? (
                    <details>
                      <summary class="muted" style="font-size:.85rem">
                        {rt(page, 'items.customerSaw')}
                      </summary>
                      <pre style="white-space:pre-wrap;font:inherit;font-size:.85rem;margin:4px 0">{i.shownText}</pre>
                    </details>
                  ) : null}
                </>
              ),
            },
          ]}
          below={(i) =>
            canWrite && !i.decision ? (
              <details>
                <summary class="muted">{rt(page, 'phone.title', { n: i.position })}</summary>
                <form method="post" action={`${BOARD}/items/${i.id}/phone`} class="toolbar">
                  <CsrfField page={page} />
                  <select name="decision" aria-label={rt(page, 'phone.decision')} style="max-width:160px">
                    <option value="approved">{rt(page, 'decision.approved')}</option>
                    <option value="declined">{rt(page, 'decision.declined')}</option>
                  </select>
                  <input type="datetime-local" name="decidedAt" aria-label={rt(page, 'phone.when')} value={localInput(new Date().toISOString(), d.branch.timeZone)} style="max-width:210px" />
                  <input type="text" name="note" required maxlength={500} placeholder={rt(page, 'phone.note')} aria-label={rt(page, 'phone.note')} style="max-width:320px" />
                  <button type="submit" class="secondary">
                    {rt(page, 'phone.record')}
                  </button>
                </form>
              </details>
            ) : null
          }
        />
      </Card>
      <Card title={rt(page, 'notices.title')}>
        <DataTable
          rows={d.notices}
          empty={rt(page, 'notices.none')}
          columns={[
            { label: rt(page, 'notices.when'), style: 'white-space:nowrap', cell: (n) => formatTime(page, n.createdAt) },
            { label: rt(page, 'notices.kind'), cell: (n) => `${rt(page, `noticeKind.${n.kind}`)}${n.status && n.kind === 'status' ? ` · ${rt(page, `status.${n.status}`)}` : ''}` },
            { label: rt(page, 'notices.channel'), cell: (n) => (n.channel ? page.t(`console-customers:channel.${n.channel}`) : '—') },
            {
              label: rt(page, 'notices.delivery'),
              cell: (n) => {
                const state = n.delivery?.state ?? n.state;
                const cls = state === 'sent' ? 'badge ok' : state === 'failed' || state === 'unreachable' ? 'badge bad' : state === 'cancelled' ? 'badge' : 'badge warn';
                return (
                  <>
                    <span class={cls} data-delivery={state}>
                      {rt(page, `delivery.${state}`)}
                    </span>
                    {n.state === 'scheduled' ? <span class="muted"> {rt(page, 'notices.due', { when: formatTime(page, n.dueAt) })}</span> : null}
                    {n.delivery && n.delivery.attempts > 1 ? <span class="muted"> · {rt(page, 'notices.attempts', { count: n.delivery.attempts })}</span> : null}
                    {n.delivery?.lastError || n.error ? <div class="muted" style="font-size:.85rem">{n.delivery?.lastError ?? n.error}</div> : null}
                  </>
                );
              },
            },
          ]}
        />
      </Card>
      <Card title={rt(page, 'timeline.title')}>
        <DataTable
          rows={d.timeline}
          columns={[
            { label: rt(page, 'notices.when'), style: 'white-space:nowrap', cell: (t) => formatTime(page, t.at) },
            {
              label: rt(page, 'timeline.what'),
              cell: (t) => (
                <>
                  {rt(page, `action.${t.action}`)}
                  {t.to ? <> → {rt(page, `status.${t.to}`)}</> : null}
                  {t.action === 'decision' && Array.isArray(t.details?.['items'])
                    ? ` · ${rt(page, `decision.${String(t.details['decision'])}`)}: ${(t.details['items'] as { position: number; description: string }[]).map((i) => `#${i.position} ${i.description}`).join(', ')}`
                    : null}
                  {t.action === 'pickup_planned' && typeof t.details?.['at'] === 'string' ? ` · ${formatTime(page, t.details['at'])}` : null}
                  {t.note ? <div class="muted">{t.note}</div> : null}
                </>
              ),
            },
            { label: rt(page, 'timeline.who'), cell: (t) => `${t.actorLabel ?? rt(page, `actor.${t.actorType}`)} · ${rt(page, `via.${t.channel}`)}` },
          ]}
        />
      </Card>
    </div>
  );
};

/** Polls the live section while the page is open and replaces it when it changed, unless someone is typing in it. */
const LIVE_SCRIPT = (path: string) => `
(() => {
  const live = () => document.getElementById('live');
  async function poll() {
    try {
      const el = live();
      if (!el || document.hidden || el.contains(document.activeElement)) return;
      const res = await fetch(${JSON.stringify(path)}, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      if (!res.ok) return;
      const html = await res.text();
      const next = new DOMParser().parseFromString(html, 'text/html').getElementById('live');
      if (next && next.dataset.stamp !== el.dataset.stamp) el.replaceWith(next);
    } catch (e) { /* the next poll tries again */ }
  }
  setInterval(poll, 4000);
})();`;

function itemsFromForm(form: FormValues): { items: ItemInput[]; errors: FieldError[] } {
  const items: ItemInput[] = [];
  const errors: FieldError[] = [];
  for (let i = 0; i < ITEM_ROWS; i++) {
    const description = form.get(`description_${i}`);
    const priceText = form.get(`price_${i}`);
    if (!description && !priceText) continue;
    const price = parseAmount(priceText);
    if (price === null) errors.push({ field: `items.${items.length}.price`, code: 'amount' });
    const urgency = form.get(`urgency_${i}`) as ItemUrgency;
    items.push({ description, price: price ?? -1, urgency, photoUrl: form.get(`photo_${i}`) || null });
  }
  return { items, errors };
}

/** The board, the order's page, the walk-in form and the settings; registered from the console index. */
export function registerRepairOrderPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const pages = consoleRoutes(app, ctx);
  const { repairOrders, customers } = ctx.services;

  // ——— the board ———

  async function board(page: Page, view: { flash?: Flash | null; status?: 200 | 400 | 404 | 409 } = {}): Promise<Response> {
    const mine = page.query('mine') === '1';
    const b = await repairOrders.board(page.principal, page.query('branch') || undefined);
    const title = rt(page, 'title');
    if (!b) return page.render({ title }, <p class="muted">{rt(page, 'noBranches')}</p>);
    const now = ctx.clock.now().getTime();
    const cards = mine ? b.cards.filter((c) => c.order.advisorId === page.principal.id) : b.cards;
    const columns: RepairOrderStatus[] = [...OPEN_STATUSES, 'collected'];
    const canWrite = page.can('repair_orders.write');
    const here = boardHref(b.branch.id, mine);
    const OrderCard: FC<{ card: BoardCard }> = ({ card }) => {
      const o = card.order;
      const next = nextStatus(o.status);
      const late = o.promisedAt !== null && Date.parse(o.promisedAt) < now && o.status !== 'ready' && o.status !== 'collected';
      return (
        <div class="card" style="padding:10px;margin-bottom:8px" data-order={o.id}>
          <div class="toolbar" style="justify-content:space-between;margin:0">
            <a href={`${BOARD}/${o.id}`}>
              <strong>{displayNumber(o)}</strong>
            </a>
            {card.openAlerts > 0 ? <span class="badge bad">⚠ {card.openAlerts}</span> : null}
          </div>
          <div>{card.plate ?? '—'}</div>
          <div class="muted" style="font-size:.85rem">
            {card.customerErased ? rt(page, 'erasedCustomer') : customerName(page, card.customerName)}
            {card.advisorName ? ` · ${card.advisorName}` : ''}
          </div>
          {o.promisedAt ? (
            <div style={`font-size:.85rem${late ? ';color:var(--bad);font-weight:600' : ''}`}>
              {rt(page, 'board.promised', { when: formatTime(page, o.promisedAt) })}
            </div>
          ) : null}
          {card.pendingItems > 0 ? <div class="badge warn">{rt(page, 'board.pendingItems', { count: card.pendingItems })}</div> : null}
          {o.pickupPlannedAt && o.status === 'ready' ? <div style="font-size:.85rem">{rt(page, 'board.pickupAt', { when: formatTime(page, o.pickupPlannedAt) })}</div> : null}
          {canWrite && next ? (
            <div style="margin-top:6px">
              <PostButton page={page} small action={`${BOARD}/${o.id}/status`} hidden={{ status: next, version: String(o.version), back: here }} label={`→ ${rt(page, `status.${next}`)}`} />
            </div>
          ) : null}
        </div>
      );
    };
    return page.render(
      { title, flash: view.flash ?? flashNote(page, FLASHES, (w) => `console-repair-orders:flash.${w}`), status: view.status },
      <>
        <h1>
          {title} · {b.branch.name}
        </h1>
        <Toolbar>
          <form class="toolbar" method="get" action={BOARD} style="margin:0">
            <select name="branch" aria-label={rt(page, 'branch')} style="max-width:220px">
              {b.branches.map((br) => (
                <option value={br.id} selected={br.id === b.branch.id}>
                  {br.name}
                </option>
              ))}
            </select>
            <CheckboxField name="mine" checked={mine} label={rt(page, 'board.mine')} />
            <button type="submit" class="secondary">
              {rt(page, 'board.show')}
            </button>
          </form>
          <span style="flex:1" />
          {canWrite ? <ButtonLink href={`${BOARD}/new?branch=${encodeURIComponent(b.branch.id)}`}>{rt(page, 'walkIn.title')}</ButtonLink> : null}
          {page.can('repair_orders.settings') ? (
            <ButtonLink secondary href={`${BOARD}/settings?branch=${encodeURIComponent(b.branch.id)}`}>
              {rt(page, 'settings.title')}
            </ButtonLink>
          ) : null}
        </Toolbar>
        <div style="display:flex;gap:10px;overflow-x:auto;align-items:flex-start;padding-bottom:8px" class="board">
          {columns.map((status) => {
            const inColumn = cards.filter((c) => c.order.status === status);
            return (
              <section style="flex:1 1 0;min-width:150px;background:#eef1f5;border-radius:10px;padding:8px" data-column={status}>
                <h2 style="font-size:.95rem;margin:2px 4px 8px">
                  {rt(page, `status.${status}`)} <span class="muted">{inColumn.length}</span>
                </h2>
                {inColumn.map((card) => (
                  <OrderCard card={card} />
                ))}
              </section>
            );
          })}
        </div>
        <script dangerouslySetInnerHTML={{ __html: `setTimeout(() => { if (!document.hidden && !document.activeElement?.closest('form')) location.reload(); }, 30000);` }} />
      </>,
    );
  }

  pages.get(BOARD, 'repair_orders.read', (page) => board(page));

  // ——— settings (static paths before /:id) ———

  async function settingsPage(page: Page, view: { problems?: Problem[]; flash?: Flash | null; status?: 400 | 404 } = {}): Promise<Response> {
    const branches = await repairOrders.branches(page.principal);
    const branch = branches.find((b) => b.id === page.query('branch')) ?? branches[0];
    const title = rt(page, 'settings.title');
    if (!branch) return page.render({ title }, <p class="muted">{rt(page, 'noBranches')}</p>);
    const found = await repairOrders.settings(page.principal, branch.id);
    if (!found) return notFoundPage(page, { title, text: rt(page, 'notFound'), back: { href: BOARD, label: rt(page, 'title') } });
    const s = found.settings;
    return page.render(
      { title, flash: view.flash ?? flashNote(page, FLASHES, (w) => `console-repair-orders:flash.${w}`), status: view.status },
      <>
        <h1>
          {title} · {branch.name}
        </h1>
        <RecordToolbar page={page} back={{ href: boardHref(branch.id), label: rt(page, 'title') }} />
        <Card>
          <form method="post" action={`${BOARD}/settings?branch=${encodeURIComponent(branch.id)}`}>
            <CsrfField page={page} />
            <fieldset style="border:0;padding:0;margin:0">
              <legend class="muted">{rt(page, 'settings.notify')}</legend>
              {REPAIR_ORDER_STATUSES.map((status) => (
                <div>
                  <CheckboxField name="notify" value={status} checked={s.notifyStatuses.includes(status)} label={rt(page, `status.${status}`)} />
                </div>
              ))}
              <div>
                <CheckboxField name="notifyDelay" checked={s.notifyDelay} label={rt(page, 'settings.notifyDelay')} />
              </div>
            </fieldset>
            <FormField label={rt(page, 'settings.currency')} id="currency" problems={view.problems}>
              <input id="currency" name="currency" type="text" value={s.currency} maxlength={3} style="max-width:120px" required />
            </FormField>
            <FormField label={rt(page, 'settings.reminderMinutes')} id="consentReminderMinutes" problems={view.problems}>
              <input id="consentReminderMinutes" name="consentReminderMinutes" type="number" min={5} max={10080} value={String(s.consentReminderMinutes)} style="max-width:160px" required />
            </FormField>
            <FormField label={rt(page, 'settings.flagMinutes')} id="consentFlagMinutes" problems={view.problems}>
              <input id="consentFlagMinutes" name="consentFlagMinutes" type="number" min={5} max={10080} value={String(s.consentFlagMinutes)} style="max-width:160px" required />
            </FormField>
            <SubmitButton label={page.t('common.save')} />
          </form>
        </Card>
      </>,
    );
  }

  pages.get(`${BOARD}/settings`, 'repair_orders.settings', (page) => settingsPage(page));
  pages.post(`${BOARD}/settings`, 'repair_orders.settings', async (page, c) => {
    const form = await readForm(c);
    const branchId = page.query('branch');
    const saved = await repairOrders.saveSettings(page.action, branchId, {
      notifyStatuses: form.all('notify'),
      notifyDelay: form.has('notifyDelay'),
      currency: form.get('currency'),
      consentReminderMinutes: Number(form.get('consentReminderMinutes')),
      consentFlagMinutes: Number(form.get('consentFlagMinutes')),
    });
    if (saved.ok) return c.redirect(`${BOARD}/settings?branch=${encodeURIComponent(branchId)}&flash=settingsSaved`, 303);
    const f = failureFlash(page, saved);
    return settingsPage(page, { problems: f.problems, flash: f.flash, status: f.status === 409 ? 400 : f.status });
  });

  // ——— walk-in ———

  async function walkInPage(page: Page, view: { problems?: Problem[]; flash?: Flash | null; status?: 400 | 409; form?: FormValues } = {}): Promise<Response> {
    const title = rt(page, 'walkIn.title');
    const branches = await repairOrders.branches(page.principal);
    const branch = branches.find((b) => b.id === (view.form?.get('branch') || page.query('branch'))) ?? branches[0];
    if (!branch) return page.render({ title }, <p class="muted">{rt(page, 'noBranches')}</p>);
    const customerId = view.form?.get('customer') || page.query('customer');
    const found = customerId && (await customers.canSee(page.principal, customerId)) ? await customers.withVehicles(customerId) : null;
    const customer = found?.ok ? found.value.customer : null;
    const q = page.query('q');
    const results = !customer && q ? (await customers.search({ q, pageSize: 10, visibleTo: page.principal })).items : null;
    const advisors = await repairOrders.advisors(page.principal, branch.id);
    const v = (name: string, fallback = '') => view.form?.get(name) ?? fallback;
    return page.render(
      { title, flash: view.flash ?? null, status: view.status },
      <>
        <h1>{title}</h1>
        <RecordToolbar page={page} back={{ href: boardHref(branch.id), label: rt(page, 'title') }} />
        {!customer ? (
          <Card title={rt(page, 'walkIn.customer')}>
            <CustomerPicker
              page={page}
              search={{ action: `${BOARD}/new`, name: 'q', value: q, hidden: { branch: branch.id }, button: rt(page, 'walkIn.find'), autofocus: true }}
              results={results}
              empty={rt(page, 'walkIn.nobody')}
              choose={(item) => <ButtonLink href={`${BOARD}/new?${new URLSearchParams({ branch: branch.id, customer: item.id }).toString()}`}>{rt(page, 'walkIn.choose')}</ButtonLink>}
            />
          </Card>
        ) : (
          <Card title={customerName(page, customer.display_name)}>
            <form method="post" action={`${BOARD}/new`}>
              <CsrfField page={page} />
              <input type="hidden" name="customer" value={customer.id} />
              <FormField label={rt(page, 'branch')} id="branch" problems={view.problems} field="branchId">
                <select id="branch" name="branch">
                  {branches.map((b) => (
                    <option value={b.id} selected={b.id === branch.id}>
                      {b.name}
                    </option>
                  ))}
                </select>
              </FormField>
              <FormField label={rt(page, 'fields.vehicle')} id="vehicle" problems={view.problems} field="vehicleId" hint={rt(page, 'walkIn.vehicleHint')}>
                <select id="vehicle" name="vehicle">
                  <option value="">{rt(page, 'walkIn.noVehicle')}</option>
                  {(found?.ok ? found.value.vehicles : []).map((veh, i) => (
                    <option value={veh.id} selected={v('vehicle') ? v('vehicle') === veh.id : i === 0}>
                      {[veh.plate, veh.make, veh.model].filter(Boolean).join(' · ')}
                    </option>
                  ))}
                </select>
              </FormField>
              <DetailFields page={page} timeZone={branch.time_zone} advisors={advisors} problems={view.problems} values={{ promised: v('promisedAt'), estimate: v('estimatedAmount'), advisorId: v('advisorId'), mileage: v('mileageIn') }} />
              <FormField label={rt(page, 'fields.dmsNumber')} id="dmsNumber" problems={view.problems}>
                <input id="dmsNumber" name="dmsNumber" type="text" maxlength={40} value={v('dmsNumber')} style="max-width:240px" />
              </FormField>
              <CheckboxField name="force" checked={false} label={rt(page, 'fields.force')} />
              <SubmitButton label={rt(page, 'walkIn.open')} cancel={{ href: boardHref(branch.id), label: page.t('common.cancel') }} />
            </form>
          </Card>
        )}
      </>,
    );
  }

  pages.get(`${BOARD}/new`, 'repair_orders.write', (page) => walkInPage(page));
  pages.post(`${BOARD}/new`, 'repair_orders.write', async (page, c) => {
    const form = await readForm(c);
    const branches = await repairOrders.branches(page.principal);
    const branch = branches.find((b) => b.id === form.get('branch'));
    const parsed = detailsFromForm(form, branch?.time_zone ?? ctx.config.dealer.timeZone);
    if (!branch || parsed.errors.length > 0) {
      const problems = problemsOf(page, branch ? parsed.errors : [{ field: 'branchId', code: 'branch' }], (e) => `console-repair-orders:errors.${e.code}`);
      return walkInPage(page, { problems, flash: problemsFlash(page, problems), status: 400, form });
    }
    const opened = await repairOrders.openWalkIn(page.action, {
      branchId: branch.id,
      customerId: form.get('customer'),
      vehicleId: form.get('vehicle') || null,
      dmsNumber: form.get('dmsNumber') || null,
      force: form.has('force'),
      ...parsed.values,
    });
    if (opened.ok) return c.redirect(`${BOARD}/${opened.value.id}?flash=opened`, 303);
    const f = failureFlash(page, opened);
    return walkInPage(page, { problems: f.problems, flash: f.flash, status: f.status === 404 ? 400 : f.status, form });
  });

  // ——— alerts and phone answers (static prefixes before /:id) ———

  pages.post(`${BOARD}/alerts/:alertId/resolve`, 'repair_orders.write', async (page, c) => {
    const form = await readForm(c);
    const done = await repairOrders.resolveAlert(page.action, page.param('alertId'));
    if (!done.ok) return notFoundPage(page, { title: rt(page, 'title'), text: rt(page, 'notFound'), back: { href: BOARD, label: rt(page, 'title') } });
    return c.redirect(`${safeBack(form.get('back'), BOARD, `${BOARD}/${done.value.id}`)}?flash=resolved`, 303);
  });

  pages.post(`${BOARD}/items/:itemId/phone`, 'repair_orders.write', async (page, c) => {
    const form = await readForm(c);
    const decided = await repairOrders.recordPhoneDecision(page.action, page.param('itemId'), {
      decision: form.get('decision'),
      decidedAt: form.get('decidedAt') ? localInputToIso(form.get('decidedAt'), ctx.config.dealer.timeZone) ?? 'invalid' : null,
      note: form.get('note'),
    });
    if (decided.ok) return c.redirect(`${BOARD}/${decided.value.id}?flash=decided`, 303);
    if (decided.reason === 'not_found') return notFoundPage(page, { title: rt(page, 'title'), text: rt(page, 'notFound'), back: { href: BOARD, label: rt(page, 'title') } });
    const item = await repairOrders.orderOfItem(page.principal, page.param('itemId'));
    const f = failureFlash(page, decided);
    return item ? detailPage(page, item.id, { flash: f.flash, status: f.status, problems: f.problems }) : notFoundPage(page, { title: rt(page, 'title'), text: rt(page, 'notFound'), back: { href: BOARD, label: rt(page, 'title') } });
  });

  // ——— one order ———

  async function detailPage(page: Page, id: string, view: { flash?: Flash | null; status?: 200 | 400 | 404 | 409; problems?: Problem[]; form?: FormValues } = {}): Promise<Response> {
    const d = await repairOrders.detail(page.principal, id);
    if (!d) return notFoundPage(page, { title: rt(page, 'title'), text: rt(page, 'notFound'), back: { href: BOARD, label: rt(page, 'title') } });
    const o = d.order;
    const canWrite = page.can('repair_orders.write');
    const tz = d.branch.timeZone;
    const closed = o.status === 'collected' || o.status === 'cancelled';
    const next = nextStatus(o.status);
    const version = <input type="hidden" name="version" value={String(o.version)} />;
    return page.render(
      { title: displayNumber(o), flash: view.flash ?? flashNote(page, FLASHES, (w) => `console-repair-orders:flash.${w}`), status: view.status },
      <>
        <h1>
          {displayNumber(o)} <RepairStatusBadge page={page} status={o.status} />
          {o.dmsNumber ? <span class="muted" style="font-size:.9rem"> ({o.number})</span> : null}
        </h1>
        <RecordToolbar page={page} back={{ href: boardHref(o.branchId), label: rt(page, 'title') }} audit={{ entity: 'repair_order', id: o.id, label: rt(page, 'audit') }} />
        <div class="grid">
          <Card>
            <FactsTable
              labelWidth="10rem"
              facts={[
                [
                  rt(page, 'fields.customer'),
                  <>
                    {page.can('customers.read') ? <a href={`/console/customers/${d.customer.id}`}>{d.customer.erased ? rt(page, 'erasedCustomer') : customerName(page, d.customer.name)}</a> : customerName(page, d.customer.name)}
                    {d.customer.phone ? (
                      <>
                        {' · '}
                        <a href={`tel:${d.customer.phone}`}>{d.customer.phone}</a>
                      </>
                    ) : null}
                    <div>
                      {d.customer.channels.map((ch) => (
                        <span class={ch.reachable ? 'badge ok' : 'badge bad'} style="margin-right:4px">
                          {page.t(`console-customers:channel.${ch.channel}`)}
                          {ch.reachable ? '' : ` · ${page.t('console-customers:unreachable')}`}
                        </span>
                      ))}
                      {d.customer.channels.every((ch) => !ch.reachable) ? <span class="badge bad">{rt(page, 'alerts.unreachable')}</span> : null}
                    </div>
                  </>,
                ],
                [rt(page, 'fields.vehicle'), d.vehicle ? [d.vehicle.plate, d.vehicle.make, d.vehicle.model].filter(Boolean).join(' · ') : '—'],
                [rt(page, 'branch'), d.branch.name],
                d.appointment ? [rt(page, 'fields.booking'), page.can('appointments.read') ? <a href={`/console/appointments/${d.appointment.id}`}>{d.appointment.reference}</a> : d.appointment.reference] : null,
                [rt(page, 'fields.advisor'), d.advisor?.name ?? <span class="muted">{rt(page, 'unassigned')}</span>],
                [rt(page, 'fields.promisedAt'), o.promisedAt ? formatTime(page, o.promisedAt) : '—'],
                [rt(page, 'fields.estimatedAmount'), amountText(page, d.currency, o.estimatedAmount)],
                [rt(page, 'fields.finalAmount'), amountText(page, d.currency, o.finalAmount)],
                [rt(page, 'fields.amountDue'), <strong>{amountText(page, d.currency, d.amountDue)}</strong>],
                [rt(page, 'fields.workSummary'), <span style="white-space:pre-wrap">{o.workSummary ?? '—'}</span>],
                o.pickupPlannedAt ? [rt(page, 'fields.pickupPlannedAt'), formatTime(page, o.pickupPlannedAt)] : null,
                [rt(page, 'fields.mileageIn'), o.mileageIn === null ? '—' : `${o.mileageIn.toLocaleString(page.locale)} km`],
              ]}
            />
          </Card>
          {canWrite && !closed ? (
            <Card title={rt(page, 'statusChange.title')}>
              {next ? (
                <p>
                  <PostButton page={page} action={`${BOARD}/${o.id}/status`} variant="primary" hidden={{ status: next, version: String(o.version) }} label={`→ ${rt(page, `status.${next}`)}`} />
                </p>
              ) : null}
              <form method="post" action={`${BOARD}/${o.id}/status`}>
                <CsrfField page={page} />
                {version}
                <FormField label={rt(page, 'statusChange.to')} id="status">
                  <select id="status" name="status">
                    {REPAIR_ORDER_STATUSES.filter((s) => s !== o.status).map((s) => (
                      <option value={s} selected={s === next}>
                        {rt(page, `status.${s}`)}
                      </option>
                    ))}
                  </select>
                </FormField>
                <FormField label={rt(page, 'statusChange.note')} id="note">
                  <input id="note" name="note" type="text" maxlength={500} />
                </FormField>
                <CheckboxField name="force" checked={false} label={rt(page, 'fields.force')} />
                <SubmitButton variant="secondary" label={rt(page, 'statusChange.submit')} />
              </form>
            </Card>
          ) : null}
        </div>
        {canWrite && !closed ? (
          <Card title={rt(page, 'addItems.title')}>
            <form method="post" action={`${BOARD}/${o.id}/items`}>
              <CsrfField page={page} />
              {version}
              <table>
                <thead>
                  <tr>
                    <th>{rt(page, 'items.description')}</th>
                    <th>{rt(page, 'items.price')}</th>
                    <th>{rt(page, 'items.urgency')}</th>
                    <th>{rt(page, 'items.photoUrl')}</th>
                  </tr>
                </thead>
                <tbody>
                  {Array.from({ length: ITEM_ROWS }, (_, i) => (
                    <tr>
                      <td>
                        <input type="text" name={`description_${i}`} maxlength={200} aria-label={`${rt(page, 'items.description')} ${i + 1}`} value={view.form?.get(`description_${i}`) ?? ''} required={i === 0} />
                        <FieldErrors problems={view.problems} field={`items.${i}.description`} />
                      </td>
                      <td style="width:9rem">
                        <input type="text" inputmode="decimal" name={`price_${i}`} aria-label={`${rt(page, 'items.price')} ${i + 1}`} value={view.form?.get(`price_${i}`) ?? ''} required={i === 0} />
                        <FieldErrors problems={view.problems} field={`items.${i}.price`} />
                      </td>
                      <td style="width:9rem">
                        <select name={`urgency_${i}`} aria-label={`${rt(page, 'items.urgency')} ${i + 1}`}>
                          {(['yellow', 'red', 'green'] as const).map((u) => (
                            <option value={u} selected={(view.form?.get(`urgency_${i}`) || 'yellow') === u}>
                              {rt(page, `urgency.${u}`)}
                            </option>
                          ))}
                        </select>
                      </td>
                      <td>
                        <input type="text" inputmode="url" name={`photo_${i}`} placeholder="https://…" aria-label={`${rt(page, 'items.photoUrl')} ${i + 1}`} value={view.form?.get(`photo_${i}`) ?? ''} />
                        <FieldErrors problems={view.problems} field={`items.${i}.photoUrl`} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <CheckboxField name="force" checked={false} label={rt(page, 'fields.force')} />
              <SubmitButton label={rt(page, 'addItems.submit')} />
              <p class="muted" style="font-size:.85rem">{rt(page, 'addItems.hint')}</p>
            </form>
          </Card>
        ) : null}
        {canWrite ? (
          <details open={Boolean(view.problems?.some((p) => !p.field.startsWith('items')))}>
            <summary>{rt(page, 'details.title')}</summary>
            <Card>
              <form method="post" action={`${BOARD}/${o.id}/details`}>
                <CsrfField page={page} />
                {version}
                <DetailFields
                  page={page}
                  timeZone={tz}
                  advisors={d.advisors}
                  problems={view.problems}
                  withFinal
                  values={{
                    promised: view.form?.get('promisedAt') ?? localInput(o.promisedAt, tz),
                    estimate: view.form?.get('estimatedAmount') ?? (o.estimatedAmount === null ? '' : String(o.estimatedAmount / 100)),
                    final: view.form?.get('finalAmount') ?? (o.finalAmount === null ? '' : String(o.finalAmount / 100)),
                    summary: view.form?.get('workSummary') ?? o.workSummary ?? '',
                    advisorId: view.form?.get('advisorId') ?? o.advisorId ?? '',
                    mileage: view.form?.get('mileageIn') ?? (o.mileageIn === null ? '' : String(o.mileageIn)),
                  }}
                />
                <CheckboxField name="force" checked={false} label={rt(page, 'fields.force')} />
                <SubmitButton label={page.t('common.save')} />
              </form>
            </Card>
          </details>
        ) : null}
        <LiveSection page={page} detail={d} />
        <script dangerouslySetInnerHTML={{ __html: LIVE_SCRIPT(`${BOARD}/${o.id}/live`) }} />
      </>,
    );
  }

  pages.get(`${BOARD}/:id`, 'repair_orders.read', (page) => detailPage(page, page.param('id')));

  pages.get(`${BOARD}/:id/live`, 'repair_orders.read', async (page, c) => {
    const d = await repairOrders.detail(page.principal, page.param('id'));
    c.header('Cache-Control', 'no-store');
    return d ? c.html(<LiveSection page={page} detail={d} />) : c.html('', 404);
  });

  const afterPost = (c: Context<ConsoleEnv>, form: FormValues, id: string, flash: string) => c.redirect(`${safeBack(form.get('back'), BOARD, `${BOARD}/${id}`)}${safeBack(form.get('back'), BOARD, '').includes('?') ? '&' : '?'}flash=${flash}`, 303);
  const versionOf = (form: FormValues) => {
    const n = Number(form.get('version'));
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };

  pages.post(`${BOARD}/:id/status`, 'repair_orders.write', async (page, c) => {
    const form = await readForm(c);
    const id = page.param('id');
    const moved = await repairOrders.setStatus(page.action, id, { status: form.get('status'), note: form.get('note') || null, force: form.has('force'), expectedVersion: versionOf(form) });
    if (moved.ok) return afterPost(c, form, id, 'moved');
    const f = failureFlash(page, moved);
    return form.get('back').startsWith(`${BOARD}?`) ? board(page, { flash: f.flash, status: f.status }) : detailPage(page, id, { flash: f.flash, status: f.status });
  });

  pages.post(`${BOARD}/:id/details`, 'repair_orders.write', async (page, c) => {
    const form = await readForm(c);
    const id = page.param('id');
    const order = await repairOrders.find(page.principal, id);
    if (!order) return notFoundPage(page, { title: rt(page, 'title'), text: rt(page, 'notFound'), back: { href: BOARD, label: rt(page, 'title') } });
    const branch = (await repairOrders.branches(page.principal)).find((b) => b.id === order.branchId);
    const parsed = detailsFromForm(form, branch?.time_zone ?? ctx.config.dealer.timeZone, true);
    if (parsed.errors.length > 0) {
      const problems = problemsOf(page, parsed.errors, (e) => `console-repair-orders:errors.${e.code}`);
      return detailPage(page, id, { flash: problemsFlash(page, problems), status: 400, problems, form });
    }
    const saved = await repairOrders.updateDetails(page.action, id, { ...parsed.values, force: form.has('force'), expectedVersion: versionOf(form) });
    if (saved.ok) return afterPost(c, form, id, 'saved');
    const f = failureFlash(page, saved);
    return detailPage(page, id, { flash: f.flash, status: f.status, problems: f.problems, form });
  });

  pages.post(`${BOARD}/:id/items`, 'repair_orders.write', async (page, c) => {
    const form = await readForm(c);
    const id = page.param('id');
    const { items, errors } = itemsFromForm(form);
    if (errors.length > 0) {
      const problems = problemsOf(page, errors, (e) => `console-repair-orders:errors.${e.code}`);
      return detailPage(page, id, { flash: problemsFlash(page, problems), status: 400, problems, form });
    }
    const sent = await repairOrders.addItems(page.action, id, { items, force: form.has('force'), expectedVersion: versionOf(form) });
    if (sent.ok) return afterPost(c, form, id, 'itemsSent');
    const f = failureFlash(page, sent);
    return detailPage(page, id, { flash: f.flash, status: f.status, problems: f.problems, form });
  });
}

/** The fields an order's details are edited with (the walk-in form has them too). */
const DetailFields: FC<{
  page: Page;
  timeZone: string;
  advisors: { id: string; name: string }[];
  problems?: Problem[];
  withFinal?: boolean;
  values: { promised?: string; estimate?: string; final?: string; summary?: string; advisorId?: string; mileage?: string };
}> = ({ page, timeZone, advisors, problems, withFinal, values }) => (
  <>
    <FormField label={rt(page, 'fields.advisor')} id="advisorId" problems={problems}>
      <select id="advisorId" name="advisorId">
        <option value="">{rt(page, 'unassigned')}</option>
        {advisors.map((a) => (
          <option value={a.id} selected={a.id === values.advisorId}>
            {a.name}
          </option>
        ))}
      </select>
    </FormField>
    <FormField label={rt(page, 'fields.promisedAt')} id="promisedAt" problems={problems} hint={rt(page, 'fields.timeZoneHint', { zone: timeZone })}>
      <input id="promisedAt" name="promisedAt" type="datetime-local" value={values.promised ?? ''} style="max-width:240px" />
    </FormField>
    <FormField label={rt(page, 'fields.estimatedAmount')} id="estimatedAmount" problems={problems}>
      <input id="estimatedAmount" name="estimatedAmount" type="text" inputmode="decimal" value={values.estimate ?? ''} style="max-width:200px" />
    </FormField>
    {withFinal ? (
      <>
        <FormField label={rt(page, 'fields.finalAmount')} id="finalAmount" problems={problems}>
          <input id="finalAmount" name="finalAmount" type="text" inputmode="decimal" value={values.final ?? ''} style="max-width:200px" />
        </FormField>
        <FormField label={rt(page, 'fields.workSummary')} id="workSummary" problems={problems} hint={rt(page, 'fields.workSummaryHint')}>
          <textarea id="workSummary" name="workSummary" maxlength={1000}>
            {values.summary ?? ''}
          </textarea>
        </FormField>
      </>
    ) : null}
    <FormField label={rt(page, 'fields.mileageIn')} id="mileageIn" problems={problems}>
      <input id="mileageIn" name="mileageIn" type="number" min={0} max={10000000} inputmode="numeric" value={values.mileage ?? ''} style="max-width:200px" />
    </FormField>
  </>
);

/** The details form's values, typed: amounts to minor units, the promised time from the branch's wall clock. */
function detailsFromForm(form: FormValues, timeZone: string, withFinal = false): { values: { promisedAt: string | null; estimatedAmount: number | null; finalAmount?: number | null; workSummary?: string | null; advisorId: string | null; mileageIn: number | null }; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const amount = (field: string) => {
    const text = form.get(field);
    if (!text) return null;
    const minor = parseAmount(text);
    if (minor === null) errors.push({ field, code: 'amount' });
    return minor;
  };
  const promisedText = form.get('promisedAt');
  const promisedAt = promisedText ? localInputToIso(promisedText, timeZone) : null;
  if (promisedText && !promisedAt) errors.push({ field: 'promisedAt', code: 'promisedAt' });
  const mileageText = form.get('mileageIn');
  const mileage = mileageText ? Number(mileageText) : null;
  if (mileage !== null && (!Number.isInteger(mileage) || mileage < 0)) errors.push({ field: 'mileageIn', code: 'mileage' });
  return {
    values: {
      promisedAt,
      estimatedAmount: amount('estimatedAmount'),
      ...(withFinal ? { finalAmount: amount('finalAmount'), workSummary: form.get('workSummary') || null } : {}),
      advisorId: form.get('advisorId') || null,
      mileageIn: mileage,
    },
    errors,
  };
}

