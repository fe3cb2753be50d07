import type { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import { apiDocument, createApi, type ApiDocument } from '../api';
import { RouteRegistry } from '../guard';
import type { ConsoleDeps } from './deps';
import { consoleRoutes, DataTable, type ConsoleEnv } from './kit';

/*
 * The API's reference inside the console, rendered on the server from the same OpenAPI document that
 * /api/openapi.json serves: no script and no assets from elsewhere, so it works on a network without
 * internet access. It is written in the API's own terms (paths, field names, the document's English
 * descriptions); only the console around it is in the staff member's language.
 */

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: unknown;
}
interface MediaContent {
  schema?: unknown;
}
interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, MediaContent> };
  responses?: Record<string, { description?: string; content?: Record<string, MediaContent> }>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const DOC_STYLES = `
  .api-op h2 { display:flex; gap:10px; align-items:baseline; flex-wrap:wrap; margin-top:0; }
  .api-op h3 { font-size:.95rem; margin:14px 0 6px; color:var(--muted); font-weight:600; }
  .api-method { font:600 .8rem ui-monospace,SFMono-Regular,Menlo,monospace; padding:2px 8px; border-radius:6px; background:#e8f0fa; color:var(--brand); text-transform:uppercase; }
  .api-method.post { background:#e9f6ee; color:var(--ok); } .api-method.patch { background:#fff4e5; color:var(--warn); } .api-method.delete { background:#fdecea; color:var(--bad); }
  code, pre { font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:.85rem; }
  pre.api-schema { background:#f7f9fb; border:1px solid var(--line); border-radius:8px; padding:10px; overflow:auto; max-height:360px; margin:0; white-space:pre; }
  .api-toc { columns:2 320px; padding-left:0; list-style:none; }
  .api-toc li { margin:4px 0; break-inside:avoid; }
  .api-desc { white-space:pre-line; }
`;

/** Backticked words of a description as code, the rest as text. */
const Prose: FC<{ text?: string; inline?: boolean }> = ({ text, inline }) => {
  if (!text) return null;
  const parts = text.split(/(`[^`]+`)/).map((part) => (part.startsWith('`') && part.endsWith('`') && part.length > 2 ? <code>{part.slice(1, -1)}</code> : part));
  return inline ? <span class="muted">{parts}</span> : <p class="api-desc">{parts}</p>;
};

/**
 * JSON that reads like a schema: objects and arrays that fit on one short line stay on it, larger ones
 * are indented. Plain JSON.stringify either sprawls over a screen or runs off it.
 */
export function compactJson(value: unknown, indent = ''): string {
  const flat = JSON.stringify(value);
  if (flat === undefined) return 'null';
  if (value === null || typeof value !== 'object' || flat.length + indent.length <= 90) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + compactJson(v, inner)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`);
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

/** The component schemas a schema points to, so the page can link to them. */
function refsOf(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) refsOf(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) out.add(v.slice('#/components/schemas/'.length));
      else refsOf(v, out);
    }
  }
  return out;
}

type Components = Record<string, unknown>;

/** A schema that only points to a component, as that component (with its name), so the page shows the fields in place. */
function resolved(schema: unknown, components: Components): { name: string | null; schema: unknown } {
  const ref = schema && typeof schema === 'object' ? (schema as { $ref?: unknown }).$ref : undefined;
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
    const name = ref.slice('#/components/schemas/'.length);
    if (name in components) return { name, schema: components[name] };
  }
  return { name: null, schema };
}

const Schema: FC<{ schema: unknown }> = ({ schema }) => {
  const refs = [...refsOf(schema)];
  return (
    <>
      <pre class="api-schema">{compactJson(schema)}</pre>
      {refs.length ? (
        <p class="muted">
          {'→ '}
          {refs.map((name, i) => (
            <>
              {i > 0 ? ', ' : ''}
              <a href={`#schema-${name}`}>{name}</a>
            </>
          ))}
        </p>
      ) : null}
    </>
  );
};

const anchorOf = (method: string, path: string) => `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;

const OperationCard: FC<{ method: string; path: string; op: Operation; components: Components }> = ({ method, path, op, components }) => (
  <section class="card api-op" id={anchorOf(method, path)}>
    <h2>
      <span class={`api-method ${method}`}>{method}</span>
      <code>{path}</code>
      <span>{op.summary ?? ''}</span>
    </h2>
    <Prose text={op.description} />
    {op.parameters?.length ? (
      <>
        <h3>parameters</h3>
        <DataTable
          scroll={false}
          rows={op.parameters}
          columns={[
            { label: 'name', cell: (p) => <code>{p.name}</code> },
            { label: 'in', cell: (p) => p.in },
            { label: 'required', cell: (p) => (p.required ? 'true' : 'false') },
            { label: 'schema', cell: (p) => <code>{JSON.stringify(withoutProse(p.schema))}</code> },
            { label: 'description', cell: (p) => p.description ?? '' },
          ]}
        />
      </>
    ) : null}
    {op.requestBody?.content
      ? Object.entries(op.requestBody.content).map(([type, media]) => {
          const body = resolved(media.schema ?? {}, components);
          return (
            <>
              <h3>
                requestBody <code>{type}</code>
                {op.requestBody?.required ? ' (required)' : ''}
                {body.name ? (
                  <>
                    {' '}
                    <a href={`#schema-${body.name}`}>{body.name}</a>
                  </>
                ) : null}
              </h3>
              <Schema schema={body.schema} />
            </>
          );
        })
      : null}
    <h3>responses</h3>
    <table>
      <tbody>
        {Object.entries(op.responses ?? {}).map(([status, response]) => {
          const schema = response.content?.['application/json']?.schema;
          const shown = schema ? resolved(schema, components) : null;
          return (
            <tr>
              <td>
                <code>{status}</code>
              </td>
              <td>
                <Prose text={response.description} />
                {/* A success answer's fields, folded so the error rows stay short; <details> needs no script. */}
                {shown && status.startsWith('2') ? (
                  <details>
                    <summary>{shown.name ?? 'schema'}</summary>
                    <Schema schema={shown.schema} />
                  </details>
                ) : null}
              </td>
              <td>{shown?.name ? <a href={`#schema-${shown.name}`}>{shown.name}</a> : shown ? <code>{JSON.stringify(shown.schema)}</code> : null}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  </section>
);

/** A parameter's schema without the description the table shows beside it anyway. */
function withoutProse(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object') return schema ?? {};
  const { description: _d, example: _e, ...rest } = schema as Record<string, unknown>;
  return rest;
}

function operationsOf(doc: ApiDocument): { method: string; path: string; op: Operation }[] {
  const out: { method: string; path: string; op: Operation }[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = (item as Record<string, unknown>)[method] as Operation | undefined;
      if (op) out.push({ method, path, op });
    }
  }
  return out;
}

/**
 * Adds GET /console/api, the API reference for any signed-in staff member (whoever sets up a DMS
 * integration reads it here, next to the API tokens page), and the document itself for download. The document is built once, from a copy of
 * the API's route declarations; nothing in it depends on the request.
 */
export function registerApiDocsPage(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  let document: ApiDocument | null = null;
  // The copy's routes are never served; its own registry keeps them out of the console's route list.
  const documentOf = () => (document ??= apiDocument(createApi({ ...deps, registry: new RouteRegistry() })));

  const pages = consoleRoutes(app, deps);
  pages.get('/console/api', 'console.use', (page) => {
    const doc = documentOf();
    const operations = operationsOf(doc);
    const components = (doc.components?.schemas ?? {}) as Components;
    const schemas = Object.entries(components);
    const securitySchemes = Object.entries((doc.components?.securitySchemes ?? {}) as Record<string, { scheme?: string; description?: string }>);
    return page.render(
      { title: page.t('nav.apiDocs') },
      <>
        <style>{DOC_STYLES}</style>
        <h1>
          {doc.info.title} <span class="badge">v{doc.info.version}</span>
        </h1>
        <div class="card">
          <Prose text={doc.info.description} />
          {securitySchemes.map(([name, scheme]) => (
            <p>
              <code>{name}</code>: <code>Authorization: Bearer dct_…</code> <Prose text={scheme.description} inline />
            </p>
          ))}
          <p>
            <a class="button secondary" href="/console/api/openapi.json" download="openapi.json">
              openapi.json
            </a>
          </p>
        </div>
        <ul class="api-toc card">
          {operations.map(({ method, path, op }) => (
            <li>
              <span class={`api-method ${method}`}>{method}</span> <a href={`#${anchorOf(method, path)}`}>{path}</a> <span class="muted">{op.summary ?? ''}</span>
            </li>
          ))}
        </ul>
        {operations.map((o) => (
          <OperationCard method={o.method} path={o.path} op={o.op} components={components} />
        ))}
        <h2>components.schemas</h2>
        {schemas.map(([name, schema]) => (
          <section class="card" id={`schema-${name}`}>
            <h3>
              <code>{name}</code>
            </h3>
            <Schema schema={schema} />
          </section>
        ))}
      </>,
    );
  });

  // The same document for a signed-in browser, which has a session rather than a token: to download or to import into a tool.
  pages.get('/console/api/openapi.json', 'console.use', (_page, c) => c.json(documentOf()));
}
