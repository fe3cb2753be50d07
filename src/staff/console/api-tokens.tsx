import type { Context, Hono } from 'hono';
import type { StaffRole } from '../../store/staff-schema';
import { AccountError, createApiTokenAccount } from '../accounts';
import { recordAudit } from '../audit';
import { revokeApiToken } from '../auth/api-tokens';
import { actionContext, consoleRoute, type StaffEnv } from '../guard';
import { adminFlash, at, FieldProblems, formatTime, problemsFlash, readAdminForm, ShownOnce, type Problem } from './admin-format';
import { CsrfField, Layout, pageOf, type ConsoleDeps, type Page } from './layout';

/*
 * API tokens for integrations (a DMS, scripts). A token is shown once, right after it is made; only its
 * hash is kept, so anyone who loses it makes a new one and revokes the old.
 */

const FLASHES = ['revoked', 'alreadyRevoked'] as const;
/** An integration acts as one of these; an admin token would let a leaked secret run the whole console. */
const TOKEN_ROLES: readonly StaffRole[] = ['advisor', 'care', 'manager'];

interface TokenFormValues {
  name: string;
  role: string;
  scope: 'all' | 'some';
  branchIds: string[];
}

type BranchOption = { id: string; name: string };

const EMPTY_FORM: TokenFormValues = { name: '', role: 'advisor', scope: 'all', branchIds: [] };

async function renderList(c: Context<StaffEnv>, deps: ConsoleDeps, view: { status?: 200 | 400 | 404; values?: TokenFormValues; problems?: Problem[]; flash?: { text: string; error?: boolean } | null } = {}): Promise<Response> {
  const page = pageOf(c, deps);
  const db = deps.store.db;
  const branches: BranchOption[] = await db.selectFrom('branches').select(['id', 'name']).orderBy('name').orderBy('id').execute();
  const tokens = await db.selectFrom('api_tokens').select(['id', 'name', 'prefix', 'role', 'branch_ids', 'created_at', 'last_used_at', 'revoked_at']).orderBy('created_at', 'desc').orderBy('id').execute();
  const branchNames = (json: string | null) => {
    if (json === null) return at(page, 'tokens.allBranches');
    const ids = JSON.parse(json) as string[];
    return ids.map((id) => branches.find((b) => b.id === id)?.name ?? id.slice(0, 8)).join(', ') || '—';
  };
  const v = view.values ?? EMPTY_FORM;
  const flash = view.flash ?? (view.problems && view.problems.length > 0 ? problemsFlash(page, view.problems) : adminFlash(page, c.req.query('flash'), FLASHES));
  return c.html(
    <Layout page={page} title={at(page, 'tokens.title')} flash={flash}>
      <h1>{at(page, 'tokens.title')}</h1>
      <form method="post" action="/console/tokens" class="card">
        <CsrfField page={page} />
        <h2 style="margin-top:0">{at(page, 'tokens.new')}</h2>
        <div class="grid">
          <div>
            <label for="token-name">{at(page, 'tokens.name')}</label>
            <input id="token-name" type="text" name="name" required maxlength={100} placeholder="DMS" value={v.name} />
            <FieldProblems problems={view.problems} field="name" />
          </div>
          <div>
            <label for="token-role">{at(page, 'tokens.role')}</label>
            <select id="token-role" name="role">
              {TOKEN_ROLES.map((r) => (
                <option value={r} selected={r === v.role}>
                  {page.t(`roles.${r}`)}
                </option>
              ))}
            </select>
            <FieldProblems problems={view.problems} field="role" />
          </div>
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
            {branches.map((b) => (
              <label style="color:inherit;margin:4px 0">
                <input type="checkbox" name="branches" value={b.id} checked={v.branchIds.includes(b.id)} /> {b.name}
              </label>
            ))}
          </div>
          <FieldProblems problems={view.problems} field="branches" />
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
      {tokens.length === 0 ? (
        <p class="muted">{page.t('common.none')}</p>
      ) : (
        <div style="overflow-x:auto">
          <table>
            <thead>
              <tr>
                <th>{at(page, 'tokens.name')}</th>
                <th>{at(page, 'tokens.prefix')}</th>
                <th>{at(page, 'tokens.role')}</th>
                <th>{at(page, 'tokens.branches')}</th>
                <th>{at(page, 'tokens.created')}</th>
                <th>{at(page, 'tokens.lastUsed')}</th>
                <th>{at(page, 'tokens.status')}</th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr>
                  <td>{t.name}</td>
                  <td>
                    <code>{`dct_${t.prefix}…`}</code>
                  </td>
                  <td>{page.t(`roles.${t.role}`)}</td>
                  <td>{branchNames(t.branch_ids)}</td>
                  <td>{formatTime(page, deps, t.created_at)}</td>
                  <td>{t.last_used_at ? formatTime(page, deps, t.last_used_at) : <span class="muted">{at(page, 'tokens.neverUsed')}</span>}</td>
                  <td>
                    {t.revoked_at ? (
                      <span class="badge bad">{at(page, 'tokens.revokedAt', { time: formatTime(page, deps, t.revoked_at) })}</span>
                    ) : (
                      <form class="inline" method="post" action={`/console/tokens/${t.id}/revoke`} onsubmit={`return confirm(${JSON.stringify(at(page, 'tokens.revokeConfirm', { name: t.name }))})`}>
                        <CsrfField page={page} />
                        <span class="badge ok">{at(page, 'tokens.active')}</span>{' '}
                        <button type="submit" class="danger">
                          {at(page, 'tokens.revoke')}
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>,
    view.status ?? 200,
  );
}

function tokenCreatedPage(c: Context<StaffEnv>, deps: ConsoleDeps, page: Page, name: string, token: string): Response | Promise<Response> {
  // The token is in this response only; a cached copy would outlive the "shown once" promise.
  c.header('Cache-Control', 'no-store');
  return c.html(
    <Layout page={page} title={at(page, 'tokens.createdTitle')} flash={{ text: at(page, 'tokens.createdTitle') }}>
      <h1>{name}</h1>
      <div class="card">
        <p style="margin-top:0">
          <strong>{at(page, 'tokens.onceWarning')}</strong>
        </p>
        <ShownOnce page={page} id="new-token" value={token} />
        <p class="muted">{at(page, 'tokens.usage')}</p>
        <pre style="white-space:pre-wrap;word-break:break-all;background:#f5f7fa;padding:8px;border-radius:6px">{`Authorization: Bearer ${token}`}</pre>
      </div>
      <p>
        <a class="button secondary" href="/console/tokens">
          {at(page, 'tokens.backToList')}
        </a>
      </p>
    </Layout>,
  );
}

/** The API token pages: list with the create form, the once-only token page, revoke. */
export function registerTokenPages(app: Hono<StaffEnv>, deps: ConsoleDeps): void {
  const { registry, store } = deps;

  consoleRoute(app, registry, deps, 'GET', '/console/tokens', 'tokens.manage', (c) => renderList(c, deps));

  consoleRoute(app, registry, deps, 'POST', '/console/tokens', 'tokens.manage', async (c) => {
    const page = pageOf(c, deps);
    const form = await readAdminForm(c);
    const values: TokenFormValues = { name: form.get('name'), role: form.get('role'), scope: form.get('scope') === 'some' ? 'some' : 'all', branchIds: form.all('branches') };
    const problems: Problem[] = [];
    if (!values.name) problems.push({ field: 'name', text: at(page, 'tokens.errors.nameRequired') });
    else if ([...values.name].length > 100) problems.push({ field: 'name', text: at(page, 'tokens.errors.nameTooLong', { max: 100 }) });
    if (!(TOKEN_ROLES as readonly string[]).includes(values.role)) problems.push({ field: 'role', text: at(page, 'tokens.errors.role') });
    if (values.scope === 'some') {
      const known = await store.db.selectFrom('branches').select('id').execute();
      if (values.branchIds.length === 0) problems.push({ field: 'branches', text: at(page, 'tokens.errors.branchesRequired') });
      else if (values.branchIds.some((id) => !known.some((b) => b.id === id))) problems.push({ field: 'branches', text: at(page, 'tokens.errors.unknownBranch') });
    }
    if (problems.length > 0) return renderList(c, deps, { status: 400, values, problems });
    const { actor, now } = actionContext(c, deps.clock);
    try {
      const created = await createApiTokenAccount(store, { name: values.name, role: values.role, branches: values.scope === 'all' ? 'all' : values.branchIds }, actor, now);
      return tokenCreatedPage(c, deps, page, values.name, created.token);
    } catch (err) {
      // A branch removed between the check and the write.
      if (err instanceof AccountError) return renderList(c, deps, { status: 400, values, problems: [{ field: 'branches', text: err.message }] });
      throw err;
    }
  });

  consoleRoute(app, registry, deps, 'POST', '/console/tokens/:id/revoke', 'tokens.manage', async (c) => {
    const page = pageOf(c, deps);
    const id = c.req.param('id') ?? '';
    const { actor, ip, now } = actionContext(c, deps.clock);
    const nowIso = now.toISOString();
    const outcome = await store.transaction(async (tx) => {
      await store.lock(tx, `api_token:${id}`);
      // Read first: on D1 the update cannot tell whether it changed a row.
      const before = await tx.selectFrom('api_tokens').select(['id', 'name', 'prefix', 'role', 'branch_ids', 'revoked_at']).where('id', '=', id).executeTakeFirst();
      if (!before) return 'not_found' as const;
      if (before.revoked_at) return 'already' as const;
      await revokeApiToken(tx, id, now);
      await recordAudit(tx, { actor, action: 'token.revoke', entity: 'api_token', entityId: id, before, after: { ...before, revoked_at: nowIso }, ip, now: nowIso });
      return 'revoked' as const;
    });
    if (outcome === 'not_found') return renderList(c, deps, { status: 404, flash: { text: at(page, 'tokens.notFound'), error: true } });
    return c.redirect(`/console/tokens?flash=${outcome === 'already' ? 'alreadyRevoked' : 'revoked'}`, 303);
  });
}
