import type { Hono } from 'hono';
import { TOKEN_ROLES, type NewTokenRequest } from '../api-tokens';
import { adminFlash, adminProblems, at, ShownOnce } from './admin-format';
import type { ConsoleContext } from './deps';
import { ButtonLink, Card, consoleRoutes, CsrfField, DataTable, FieldErrors, formatTime, FormField, PostButton, problemsFlash, readForm, type ConsoleEnv, type Flash, type Page, type Problem } from './kit';

/*
 * API tokens for integrations (a DMS, scripts): the list with the create form, the page that shows a new
 * token once, and revoke.
 */

const FLASHES = ['revoked', 'alreadyRevoked'] as const;
const EMPTY_FORM: NewTokenRequest = { name: '', role: 'advisor', scope: 'all', branchIds: [] };

/** The API token pages: list with the create form, the once-only token page, revoke. */
export function registerTokenPages(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  const { tokens, branches } = ctx.services;
  const pages = consoleRoutes(app, ctx);

  const renderList = async (page: Page, view: { status?: 200 | 400 | 404; values?: NewTokenRequest; problems?: Problem[]; flash?: Flash | null } = {}) => {
    const [choices, list] = await Promise.all([branches.choices(), tokens.list()]);
    const branchNames = (ids: string[] | null) => (ids === null ? at(page, 'tokens.allBranches') : ids.map((id) => choices.find((b) => b.id === id)?.name ?? id.slice(0, 8)).join(', ') || '—');
    const v = view.values ?? EMPTY_FORM;
    const flash = view.flash ?? (view.problems && view.problems.length > 0 ? problemsFlash(page, view.problems) : adminFlash(page, FLASHES));
    return page.render(
      { title: at(page, 'tokens.title'), flash, status: view.status },
      <>
        <h1>{at(page, 'tokens.title')}</h1>
        <form method="post" action="/console/tokens" class="card">
          <CsrfField page={page} />
          <h2 style="margin-top:0">{at(page, 'tokens.new')}</h2>
          <div class="grid">
            <FormField label={at(page, 'tokens.name')} id="token-name" field="name" problems={view.problems}>
              <input id="token-name" type="text" name="name" required maxlength={100} placeholder="DMS" value={v.name} />
            </FormField>
            <FormField label={at(page, 'tokens.role')} id="token-role" field="role" problems={view.problems}>
              <select id="token-role" name="role">
                {TOKEN_ROLES.map((r) => (
                  <option value={r} selected={r === v.role}>
                    {page.t(`roles.${r}`)}
                  </option>
                ))}
              </select>
            </FormField>
          </div>
          <fieldset style="border:0;padding:0;margin:10px 0 0">
            <legend class="muted" style="font-size:.9rem">
              {at(page, 'tokens.branches')}
            </legend>
            <label style="color:inherit;margin:4px 0">
              <input type="radio" name="scope" value="all" checked={v.scope === 'all'} /> {at(page, 'tokens.allBranchesChoice')}
            </label>
            <label style="color:inherit;margin:4px 0">
              <input type="radio" name="scope" value="some" checked={v.scope === 'some'} /> {at(page, 'tokens.someBranches')}
            </label>
            <div style="padding-left:1.5rem">
              {choices.map((b) => (
                <label style="color:inherit;margin:4px 0">
                  <input type="checkbox" name="branches" value={b.id} checked={v.branchIds.includes(b.id)} /> {b.name}
                </label>
              ))}
            </div>
            <FieldErrors problems={view.problems} field="branches" />
          </fieldset>
          {/* Ticking a branch means "only these"; without scripts the choice above is made by hand. */}
          <script
            dangerouslySetInnerHTML={{
              __html: `document.querySelectorAll('input[name="branches"]').forEach(function(b){b.addEventListener('change',function(){if(b.checked){var s=document.querySelector('input[name="scope"][value="some"]');if(s)s.checked=true;}});});`,
            }}
          />
          <p class="toolbar" style="margin-top:16px">
            <button type="submit">{at(page, 'tokens.create')}</button>
          </p>
        </form>

        <h2>{at(page, 'tokens.existing')}</h2>
        <DataTable
          rows={list}
          empty={page.t('common.none')}
          columns={[
            { label: at(page, 'tokens.name'), cell: (t) => t.name },
            { label: at(page, 'tokens.prefix'), cell: (t) => <code>{`dct_${t.prefix}…`}</code> },
            { label: at(page, 'tokens.role'), cell: (t) => page.t(`roles.${t.role}`) },
            { label: at(page, 'tokens.branches'), cell: (t) => branchNames(t.branchIds) },
            { label: at(page, 'tokens.created'), cell: (t) => formatTime(page, t.createdAt) },
            { label: at(page, 'tokens.lastUsed'), cell: (t) => (t.lastUsedAt ? formatTime(page, t.lastUsedAt) : <span class="muted">{at(page, 'tokens.neverUsed')}</span>) },
            {
              label: at(page, 'tokens.status'),
              cell: (t) =>
                t.revokedAt ? (
                  <span class="badge bad">{at(page, 'tokens.revokedAt', { time: formatTime(page, t.revokedAt) })}</span>
                ) : (
                  <PostButton
                    page={page}
                    action={`/console/tokens/${t.id}/revoke`}
                    confirm={at(page, 'tokens.revokeConfirm', { name: t.name })}
                    before={
                      <>
                        <span class="badge ok">{at(page, 'tokens.active')}</span>{' '}
                      </>
                    }
                    variant="danger"
                    label={at(page, 'tokens.revoke')}
                  />
                ),
            },
          ]}
        />
      </>,
    );
  };

  pages.get('/console/tokens', 'tokens.manage', (page) => renderList(page));

  pages.post('/console/tokens', 'tokens.manage', async (page, c) => {
    const form = await readForm(c);
    const values: NewTokenRequest = { name: form.get('name'), role: form.get('role'), scope: form.get('scope') === 'some' ? 'some' : 'all', branchIds: form.all('branches') };
    const created = await tokens.create(page.action, values);
    if (!created.ok) return renderList(page, { status: 400, values, problems: adminProblems(page, 'tokens', created.errors) });
    // The token is in this response only; a cached copy would outlive the "shown once" promise.
    c.header('Cache-Control', 'no-store');
    const token = created.value.token;
    return page.render(
      { title: at(page, 'tokens.createdTitle'), flash: { text: at(page, 'tokens.createdTitle') } },
      <>
        <h1>{values.name}</h1>
        <Card>
          <p style="margin-top:0">
            <strong>{at(page, 'tokens.onceWarning')}</strong>
          </p>
          <ShownOnce page={page} id="new-token" value={token} />
          <p class="muted">{at(page, 'tokens.usage')}</p>
          <pre style="white-space:pre-wrap;word-break:break-all;background:#f5f7fa;padding:8px;border-radius:6px">{`Authorization: Bearer ${token}`}</pre>
        </Card>
        <p>
          <ButtonLink secondary href="/console/tokens">
            {at(page, 'tokens.backToList')}
          </ButtonLink>
        </p>
      </>,
    );
  });

  pages.post('/console/tokens/:id/revoke', 'tokens.manage', async (page, c) => {
    const revoked = await tokens.revoke(page.action, page.param('id'));
    if (!revoked.ok) return renderList(page, { status: 404, flash: { text: at(page, 'tokens.notFound'), error: true } });
    return c.redirect(`/console/tokens?flash=${revoked.value.alreadyRevoked ? 'alreadyRevoked' : 'revoked'}`, 303);
  });
}
