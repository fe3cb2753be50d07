import type { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import { ASPECT_CODES, RECOMMEND_NAMES, REPURCHASE_NAMES, SATISFACTION_NAMES } from '../../domain/csi';
import type { CsiFilters, CsiReport, Figures, SurveyListRow } from '../csi';
import type { ConsoleContext } from './deps';
import {
  ButtonLink,
  Card,
  CheckboxField,
  consoleRoutes,
  CsrfField,
  customerName,
  DataTable,
  FormField,
  flashNote,
  formatTime,
  notFoundPage,
  PostButton,
  problemsFlash,
  problemsOf,
  readForm,
  SubmitButton,
  textsOf,
  Toolbar,
  type ConsoleEnv,
  type Flash,
  type Page,
  type Problem,
} from './kit';

/*
 * CSI and loyalty reports for managers: filters (period, branch, advisor, service type), the headline
 * figures, the three distributions, the figures by branch, advisor and service type, a trend chart drawn
 * here as SVG (no script, prints as it shows), the comments with a button that turns one into a complaint,
 * and the same rows as CSV. The dealer's survey settings have their own page.
 */

const ct = textsOf('console-csi');
const BASE = '/console/csi';
const FLASHES = ['flagged', 'settingsSaved'] as const;
const FILTER_NAMES = ['from', 'to', 'branchId', 'advisorId', 'serviceType', 'granularity'] as const;

function filterQuery(page: Page): Record<string, string> {
  return Object.fromEntries(FILTER_NAMES.map((n) => [n, page.query(n, 100)]).filter(([, v]) => v !== ''));
}

const percent = (page: Page, n: number | null) => (n === null ? '–' : `${n.toLocaleString(page.locale, { maximumFractionDigits: 1 })}%`);
const score = (page: Page, n: number | null) => (n === null ? '–' : n.toLocaleString(page.locale, { maximumFractionDigits: 1 }));

/** The trend as a chart: CSI (line, 0–100) over response counts (bars), one mark per week or month. */
export const TrendChart: FC<{ page: Page; trend: CsiReport['trend'] }> = ({ page, trend }) => {
  const points = trend.points;
  const width = 760;
  const height = 240;
  const left = 40;
  const right = 40;
  const top = 16;
  const bottom = 40;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const step = points.length > 0 ? plotW / points.length : plotW;
  const maxResponses = Math.max(1, ...points.map((p) => p.responses));
  const x = (i: number) => left + step * i + step / 2;
  const yCsi = (v: number) => top + plotH - (v / 100) * plotH;
  const line = points
    .map((p, i) => (p.csi === null ? null : `${x(i).toFixed(1)},${yCsi(p.csi).toFixed(1)}`))
    .filter((p): p is string => p !== null)
    .join(' ');
  const labelEvery = Math.max(1, Math.ceil(points.length / 12));
  return (
    <svg class="csi-trend" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={ct(page, 'trend.aria')} style="max-width:760px;background:#fff">
      <title>{ct(page, 'trend.aria')}</title>
      {[0, 25, 50, 75, 100].map((v) => (
        <g>
          <line x1={left} x2={width - right} y1={yCsi(v)} y2={yCsi(v)} stroke="#dfe4ea" stroke-width="1" />
          <text x={left - 6} y={yCsi(v) + 4} text-anchor="end" font-size="11" fill="#66727f">
            {String(v)}
          </text>
        </g>
      ))}
      {points.map((p, i) => {
        const h = (p.responses / maxResponses) * plotH * 0.6;
        return (
          <g>
            <rect class="bar" x={(x(i) - step * 0.3).toFixed(1)} y={(top + plotH - h).toFixed(1)} width={(step * 0.6).toFixed(1)} height={h.toFixed(1)} fill="#cfe0f3">
              <title>{`${p.period}: ${ct(page, 'trend.responses', { n: p.responses })}`}</title>
            </rect>
            {i % labelEvery === 0 ? (
              <text x={x(i).toFixed(1)} y={height - bottom + 16} text-anchor="middle" font-size="11" fill="#66727f">
                {trend.granularity === 'month' ? p.period : p.period.slice(5)}
              </text>
            ) : null}
          </g>
        );
      })}
      {line ? <polyline class="csi-line" points={line} fill="none" stroke="#0b5cad" stroke-width="2" /> : null}
      {points.map((p, i) =>
        p.csi === null ? null : (
          <circle class="point" cx={x(i).toFixed(1)} cy={yCsi(p.csi).toFixed(1)} r="3" fill="#0b5cad">
            <title>{`${p.period}: CSI ${score(page, p.csi)}`}</title>
          </circle>
        ),
      )}
      <text x={left} y={height - 6} font-size="11" fill="#0b5cad">
        {ct(page, 'trend.legendCsi')}
      </text>
      <text x={left + 200} y={height - 6} font-size="11" fill="#5d86b5">
        {ct(page, 'trend.legendResponses', { max: maxResponses })}
      </text>
    </svg>
  );
};

/** One distribution as a row of counts with their shares. */
const Distribution: FC<{ page: Page; title: string; counts: Record<string, number>; names: Record<number, string>; label: (name: string) => string }> = ({ page, title, counts, names, label }) => {
  const total = Object.values(counts).reduce((s, n) => s + n, 0);
  const order = Object.keys(names)
    .map(Number)
    .sort((a, b) => b - a)
    .map((k) => names[k]!);
  return (
    <Card title={title}>
      <table>
        <tbody>
          {order.map((name) => {
            const n = counts[name] ?? 0;
            const share = total > 0 ? (n / total) * 100 : 0;
            return (
              <tr>
                <td style="white-space:nowrap">{label(name)}</td>
                <td style="text-align:right">{String(n)}</td>
                <td style="width:45%">
                  <div style={`background:#0b5cad;height:10px;border-radius:3px;width:${share.toFixed(1)}%`} />
                </td>
                <td style="text-align:right" class="muted">
                  {total > 0 ? percent(page, Math.round(share * 10) / 10) : '–'}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Card>
  );
};

function figureColumns<T extends Figures>(page: Page) {
  return [
    { label: ct(page, 'figures.surveysSent'), cell: (r: T) => String(r.surveysSent), style: 'text-align:right' },
    { label: ct(page, 'figures.responses'), cell: (r: T) => String(r.responses), style: 'text-align:right' },
    { label: ct(page, 'figures.responseRate'), cell: (r: T) => percent(page, r.responseRate === null ? null : Math.round(r.responseRate * 1000) / 10), style: 'text-align:right' },
    { label: ct(page, 'figures.csi'), cell: (r: T) => score(page, r.csi), style: 'text-align:right' },
    { label: ct(page, 'figures.verySatisfied'), cell: (r: T) => percent(page, r.verySatisfiedPercent), style: 'text-align:right' },
    { label: ct(page, 'figures.loyalty'), cell: (r: T) => score(page, r.loyaltyIndex), style: 'text-align:right' },
  ];
}

/** Quoted as CSV wants, and never read as a formula by a spreadsheet. */
function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function surveysCsv(page: Page, rows: readonly SurveyListRow[]): string {
  const head = ['collectedAt', 'branch', 'advisor', 'serviceType', 'repairOrder', 'customer', 'status', 'satisfaction', 'repurchase', 'recommend', ...ASPECT_CODES.map((a) => `aspect_${a}`), 'csi', 'loyaltyIndex', 'comment', 'complaint'];
  const lines = rows.map((r) =>
    [
      r.collectedAt,
      r.branchName,
      r.advisorName,
      r.serviceType,
      r.repairOrderNumber,
      r.customerName,
      r.expired ? 'expired' : r.status,
      r.satisfaction === null ? null : SATISFACTION_NAMES[r.satisfaction]!,
      r.repurchase === null ? null : REPURCHASE_NAMES[r.repurchase]!,
      r.recommend === null ? null : RECOMMEND_NAMES[r.recommend]!,
      ...ASPECT_CODES.map((a) => r.aspects[a] ?? null),
      r.csi === null ? null : Math.round(r.csi * 100) / 100,
      r.loyaltyIndex === null ? null : Math.round(r.loyaltyIndex * 100) / 100,
      r.comment,
      r.complaintReference,
    ]
      .map(csvCell)
      .join(','),
  );
  void page;
  return `\uFEFF${[head.join(','), ...lines].join('\r\n')}\r\n`;
}

export function registerCsiPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const pages = consoleRoutes(app, ctx);
  const { csi } = ctx.services;

  async function reportPage(page: Page, view: { flash?: Flash | null; status?: 400 | 409 } = {}): Promise<Response> {
    const title = ct(page, 'title');
    const [result, options] = await Promise.all([csi.page(page.principal, filterQuery(page)), csi.options(page.principal)]);
    const serviceName = (code: string | null) => {
      if (code === null) return ct(page, 'walkIn');
      const names = options.serviceTypes.find((s) => s.code === code)?.names;
      return names?.[page.locale] ?? names?.en ?? code;
    };
    if (!result.ok && result.reason === 'not_found') return notFoundPage(page, { title, text: ct(page, 'notFound'), back: { href: BASE, label: title } });
    const problems: Problem[] = !result.ok && result.reason === 'invalid' ? problemsOf(page, result.errors, (e) => `console-csi:errors.${e.code}`) : [];
    const form = (f: Partial<CsiFilters>) => (
      <Card>
        <form method="get" action={BASE} class="inline" style="display:flex;gap:12px;flex-wrap:wrap;align-items:flex-end">
          <FormField label={ct(page, 'filters.from')} id="from" problems={problems}>
            <input id="from" name="from" type="date" value={page.query('from') || f.from || ''} />
          </FormField>
          <FormField label={ct(page, 'filters.to')} id="to" problems={problems}>
            <input id="to" name="to" type="date" value={page.query('to') || f.to || ''} />
          </FormField>
          <FormField label={ct(page, 'filters.branch')} id="branchId">
            <select id="branchId" name="branchId">
              <option value="">{ct(page, 'filters.all')}</option>
              {options.branches.map((b) => (
                <option value={b.id} selected={page.query('branchId') === b.id}>
                  {b.name}
                </option>
              ))}
            </select>
          </FormField>
          <FormField label={ct(page, 'filters.advisor')} id="advisorId">
            <select id="advisorId" name="advisorId">
              <option value="">{ct(page, 'filters.all')}</option>
              {options.advisors.map((a) => (
                <option value={a.id} selected={page.query('advisorId') === a.id}>
                  {a.name}
                </option>
              ))}
              <option value="none" selected={page.query('advisorId') === 'none'}>
                {ct(page, 'filters.noAdvisor')}
              </option>
            </select>
          </FormField>
          <FormField label={ct(page, 'filters.serviceType')} id="serviceType">
            <select id="serviceType" name="serviceType">
              <option value="">{ct(page, 'filters.all')}</option>
              {options.serviceTypes.map((s) => (
                <option value={s.code} selected={page.query('serviceType') === s.code}>
                  {serviceName(s.code)}
                </option>
              ))}
              <option value="walk_in" selected={page.query('serviceType') === 'walk_in'}>
                {ct(page, 'walkIn')}
              </option>
            </select>
          </FormField>
          <FormField label={ct(page, 'filters.granularity')} id="granularity">
            <select id="granularity" name="granularity">
              <option value="">{ct(page, 'filters.auto')}</option>
              <option value="week" selected={page.query('granularity') === 'week'}>
                {ct(page, 'filters.week')}
              </option>
              <option value="month" selected={page.query('granularity') === 'month'}>
                {ct(page, 'filters.month')}
              </option>
            </select>
          </FormField>
          <button type="submit">{ct(page, 'filters.apply')}</button>
        </form>
      </Card>
    );
    if (!result.ok) {
      return page.render({ title, flash: problems.length > 0 ? problemsFlash(page, problems) : null, status: 400 }, <>{form({})}</>);
    }
    const { report, comments, filters } = result.value;
    const fig = report.figures;
    const exportHref = `${BASE}/export.csv?${new URLSearchParams(filterQuery(page)).toString()}`;
    const advisorName = (name: string | null) => name ?? ct(page, 'filters.noAdvisor');
    return page.render(
      { title, flash: view.flash ?? flashNote(page, FLASHES, (w) => `console-csi:flash.${w}`), status: view.status },
      <>
        <h1>{title}</h1>
        <Toolbar>
          <ButtonLink secondary href={exportHref}>
            {ct(page, 'export')}
          </ButtonLink>
          {page.can('csi.settings') ? (
            <ButtonLink secondary href={`${BASE}/settings`}>
              {ct(page, 'settings.title')}
            </ButtonLink>
          ) : null}
        </Toolbar>
        {form(filters)}
        <p class="muted">{ct(page, 'period', { from: report.period.from, to: report.period.to })}</p>
        <div class="grid" id="csi-figures">
          <Card title={ct(page, 'figures.responses')}>
            <strong style="font-size:1.6rem" data-figure="responses">
              {String(fig.responses)}
            </strong>{' '}
            <span class="muted">{ct(page, 'figures.ofSent', { n: fig.surveysSent })}</span>
          </Card>
          <Card title={ct(page, 'figures.responseRate')}>
            <strong style="font-size:1.6rem" data-figure="responseRate">
              {percent(page, fig.responseRate === null ? null : Math.round(fig.responseRate * 1000) / 10)}
            </strong>
          </Card>
          <Card title={ct(page, 'figures.csi')}>
            <strong style="font-size:1.6rem" data-figure="csi">
              {score(page, fig.csi)}
            </strong>
          </Card>
          <Card title={ct(page, 'figures.verySatisfied')}>
            <strong style="font-size:1.6rem" data-figure="verySatisfied">
              {percent(page, fig.verySatisfiedPercent)}
            </strong>
          </Card>
          <Card title={ct(page, 'figures.loyalty')}>
            <strong style="font-size:1.6rem" data-figure="loyalty">
              {score(page, fig.loyaltyIndex)}
            </strong>
          </Card>
        </div>
        <Card title={ct(page, 'trend.title')}>
          <TrendChart page={page} trend={report.trend} />
        </Card>
        <div class="grid">
          <Distribution page={page} title={ct(page, 'distribution.satisfaction')} counts={fig.satisfaction} names={SATISFACTION_NAMES} label={(n) => page.t(`survey:answer.satisfaction.${n}`)} />
          <Distribution page={page} title={ct(page, 'distribution.repurchase')} counts={fig.repurchase} names={REPURCHASE_NAMES} label={(n) => page.t(`survey:answer.repurchase.${n}`)} />
          <Distribution page={page} title={ct(page, 'distribution.recommend')} counts={fig.recommend} names={RECOMMEND_NAMES} label={(n) => page.t(`survey:answer.recommend.${n}`)} />
        </div>
        <Card title={ct(page, 'by.branch')}>
          <DataTable rows={report.byBranch} empty={page.t('common.none')} columns={[{ label: ct(page, 'filters.branch'), cell: (r) => r.name }, ...figureColumns<(typeof report.byBranch)[number]>(page)]} />
        </Card>
        <Card title={ct(page, 'by.advisor')}>
          <DataTable rows={report.byAdvisor} empty={page.t('common.none')} columns={[{ label: ct(page, 'filters.advisor'), cell: (r) => advisorName(r.name) }, ...figureColumns<(typeof report.byAdvisor)[number]>(page)]} />
        </Card>
        <Card title={ct(page, 'by.serviceType')}>
          <DataTable rows={report.byServiceType} empty={page.t('common.none')} columns={[{ label: ct(page, 'filters.serviceType'), cell: (r) => serviceName(r.serviceType) }, ...figureColumns<(typeof report.byServiceType)[number]>(page)]} />
        </Card>
        <Card title={ct(page, 'comments.title')}>
          <DataTable
            rows={comments}
            empty={ct(page, 'comments.none')}
            columns={[
              { label: ct(page, 'comments.when'), cell: (r) => formatTime(page, r.collectedAt) },
              { label: ct(page, 'comments.customer'), cell: (r) => <a href={`/console/customers/${encodeURIComponent(r.customerId)}`}>{customerName(page, r.customerName)}</a> },
              { label: ct(page, 'filters.branch'), cell: (r) => `${r.branchName} · ${advisorName(r.advisorName)}` },
              { label: ct(page, 'comments.score'), cell: (r) => (r.satisfaction === null ? '–' : page.t(`survey:answer.satisfaction.${SATISFACTION_NAMES[r.satisfaction]}`)) },
              { label: ct(page, 'comments.comment'), cell: (r) => <span style="white-space:pre-wrap">{r.comment}</span> },
              {
                label: ct(page, 'comments.complaint'),
                cell: (r) =>
                  r.complaintId ? (
                    <a href={`/console/complaints/${encodeURIComponent(r.complaintId)}`}>{r.complaintReference}</a>
                  ) : (
                    <PostButton page={page} small variant="secondary" action={`${BASE}/surveys/${encodeURIComponent(r.id)}/complaint`} label={ct(page, 'comments.flag')} confirm={ct(page, 'comments.flagConfirm')} />
                  ),
              },
            ]}
          />
        </Card>
      </>,
    );
  }

  pages.get(BASE, 'csi.read', (page) => reportPage(page));

  pages.get(`${BASE}/export.csv`, 'csi.read', async (page, c) => {
    const result = await csi.surveys(page.principal, filterQuery(page));
    if (!result.ok) return reportPage(page, { status: 400 });
    const { from, to } = result.value.filters;
    return c.body(surveysCsv(page, result.value.rows), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="csi-${from}-${to}.csv"`, 'cache-control': 'no-store' });
  });

  pages.post(`${BASE}/surveys/:id/complaint`, 'csi.read', async (page, c) => {
    const flagged = await csi.flagComment(page.action, page.param('id'));
    if (flagged.ok) return c.redirect(`${BASE}?flash=flagged`, 303);
    if (flagged.reason === 'not_found') return notFoundPage(page, { title: ct(page, 'title'), text: ct(page, 'notFound'), back: { href: BASE, label: ct(page, 'title') } });
    return reportPage(page, { status: 409, flash: { text: ct(page, `errors.${flagged.reason === 'conflict' ? flagged.code : 'settingsInvalid'}`), error: true } });
  });

  async function settingsPage(page: Page, view: { problems?: Problem[]; status?: 400; typed?: Record<string, unknown> } = {}): Promise<Response> {
    const title = ct(page, 'settings.title');
    const s = await csi.settings();
    const typed = view.typed;
    const value = (name: string, saved: string) => (typed && typeof typed[name] === 'string' ? (typed[name] as string) : saved);
    return page.render(
      { title, flash: view.problems ? problemsFlash(page, view.problems) : flashNote(page, FLASHES, (w) => `console-csi:flash.${w}`), status: view.status },
      <>
        <h1>{title}</h1>
        <Toolbar>
          <ButtonLink secondary href={BASE}>
            {ct(page, 'title')}
          </ButtonLink>
        </Toolbar>
        <Card>
          <form method="post" action={`${BASE}/settings`}>
            <CsrfField page={page} />
            <div>
              <CheckboxField name="enabled" checked={s.enabled} label={ct(page, 'settings.enabled')} />
            </div>
            <FormField label={ct(page, 'settings.delay')} id="delayMinutes" hint={ct(page, 'settings.delayHint')} problems={view.problems}>
              <input id="delayMinutes" name="delayMinutes" type="number" min={0} max={10080} value={value('delayMinutes', s.delayMinutes === null ? '' : String(s.delayMinutes))} style="max-width:160px" />
            </FormField>
            <FormField label={ct(page, 'settings.expiry')} id="expiryDays" problems={view.problems}>
              <input id="expiryDays" name="expiryDays" type="number" min={1} max={60} value={value('expiryDays', String(s.expiryDays))} style="max-width:160px" required />
            </FormField>
            <fieldset style="border:0;padding:0;margin:0 0 12px">
              <legend class="muted">{ct(page, 'settings.aspects')}</legend>
              {ASPECT_CODES.map((a) => (
                <div>
                  <CheckboxField name="aspects" value={a} checked={s.aspects.includes(a)} label={ct(page, `aspect.${a}`)} />
                </div>
              ))}
            </fieldset>
            <div>
              <CheckboxField name="reviewInvite" checked={s.reviewInvite} label={ct(page, 'settings.reviewInvite')} />
            </div>
            <FormField label={ct(page, 'settings.reviewUrl')} id="reviewUrl" hint={ct(page, 'settings.reviewUrlHint')} problems={view.problems}>
              <input id="reviewUrl" name="reviewUrl" type="url" maxlength={500} value={value('reviewUrl', s.reviewUrl ?? '')} />
            </FormField>
            <SubmitButton label={page.t('common.save')} />
          </form>
        </Card>
      </>,
    );
  }

  pages.get(`${BASE}/settings`, 'csi.settings', (page) => settingsPage(page));
  pages.post(`${BASE}/settings`, 'csi.settings', async (page, c) => {
    const form = await readForm(c);
    const number = (name: string) => (form.get(name) === '' ? null : Number(form.get(name)));
    const input = {
      enabled: form.has('enabled'),
      delayMinutes: number('delayMinutes'),
      expiryDays: number('expiryDays'),
      aspects: form.all('aspects'),
      reviewInvite: form.has('reviewInvite'),
      reviewUrl: form.get('reviewUrl') || null,
    };
    const saved = await csi.saveSettings(page.action, input);
    if (saved.ok) return c.redirect(`${BASE}/settings?flash=settingsSaved`, 303);
    if (!saved.ok && saved.reason === 'invalid') {
      return settingsPage(page, { status: 400, problems: problemsOf(page, saved.errors, (e) => `console-csi:errors.${e.code}`), typed: { delayMinutes: form.get('delayMinutes'), expiryDays: form.get('expiryDays'), reviewUrl: form.get('reviewUrl') } });
    }
    return settingsPage(page, { status: 400, problems: [] });
  });
}
