import { createRoute, OpenAPIHono, z, type RouteConfig, type RouteHandler } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import type { BlobStore } from '../../blobs/blob-store';
import type { Choice } from '../../channels/types';
import type { MediaLinks } from '../../complaints/media-links';
import type { Config } from '../../config';
import type { Translator } from '../../i18n';
import { AppError } from '../../errors';
import { requireApi, type GuardDeps, type RouteRegistry, type StaffEnv } from '../guard';
import type { Permission } from '../permissions';
import type { CustomerFailure, FieldError } from '../customers/result';
import type { StaffServices } from '../services';
import { errorParams } from '../customers/validation';

/** What the API's routes need; a subset of what the console gets, so both can be built from one composition. */
export interface ApiDeps extends GuardDeps {
  config: Config;
  translator: Translator;
  registry: RouteRegistry;
  /** Wakes the outbox sender after a route queued a message for a customer. */
  onOutbox?: () => void;
  /** The customer's main menu, offered when a conversation goes back to the bot. */
  menuChoices?: () => Choice[];
  /** Where photos are kept and links to them (complaint photos). */
  blobs?: BlobStore;
  mediaLinks?: MediaLinks;
}

/** What every route module gets: the deps and the staff services, built once in createApi. */
export interface ApiContext extends ApiDeps {
  services: StaffServices;
}

export type ApiApp = OpenAPIHono<StaffEnv>;

/** The name the OpenAPI document gives the bearer scheme every route requires. */
export const BEARER_SCHEME = 'apiToken';

export const FieldErrorSchema = z
  .object({
    field: z.string().openapi({ description: 'The request field, dotted for nested ones (`openingHours.mon`).', example: 'vin' }),
    message: z.string().openapi({ example: 'A VIN has 17 letters and digits, without I, O or Q.' }),
    code: z.string().optional().openapi({ description: 'A stable name of the problem, when it has one.', example: 'vinInvalid' }),
  })
  .openapi('FieldError');

export const ErrorSchema = z
  .object({
    error: z.string(),
    details: z.array(FieldErrorSchema).optional(),
    mergedInto: z.string().optional().openapi({ description: 'On a 404 for a merged customer: the profile that is that person now.' }),
    erased: z.boolean().optional().openapi({ description: 'On a 404 for a customer whose data was erased on request.' }),
  })
  .openapi('Error');

/** A JSON answer of the OpenAPI document: its schema and what it means. */
export const jsonResponse = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } }) as const;

/** Answers every route can give: bad input, no token, a token whose role may not do it. */
const STANDARD_RESPONSES = {
  400: jsonResponse(ErrorSchema, 'Invalid request: `details` lists each field and what is wrong with it.'),
  401: jsonResponse(ErrorSchema, 'No API token, or one that is unknown or revoked.'),
  403: jsonResponse(ErrorSchema, "The token's role may not do this."),
} as const;

/** A 404 answer, for routes that name a record. */
export const NOT_FOUND = jsonResponse(ErrorSchema, 'No such record, or one outside the token’s branches. A merged customer names the profile it became (`mergedInto`).');

/**
 * A request schema of the customer rules, named as a component of the document. Those schemas may be
 * built before @hono/zod-openapi adds `.openapi()` to zod (zod 4 copies methods onto a schema when it is
 * made), so the object is rebuilt here from the same fields: it validates exactly as the original does.
 */
export function documented<S extends z.ZodRawShape>(schema: z.ZodObject<S>, name: string) {
  return z.object(schema.shape).openapi(name);
}

type ApiRouteConfig = Omit<RouteConfig, 'middleware' | 'security' | 'path'> & { path: `/api/${string}` };
type WithStandard<R extends ApiRouteConfig> = Omit<R, 'responses'> & { responses: R['responses'] & typeof STANDARD_RESPONSES };

/**
 * Declares one API route: its OpenAPI description, the permission it needs (recorded in the route
 * registry, so the route walk test sees it) and the token guard. The guard runs before request
 * validation, so a caller without the right token learns nothing about the request's shape (401/403,
 * never 400), and before the body is read. This is the only way routes are added to the API.
 */
export function apiRoute<const R extends ApiRouteConfig>(app: ApiApp, deps: ApiDeps, permission: Permission, config: R, handler: RouteHandler<WithStandard<R>, StaffEnv>): void {
  const route = createRoute({
    ...config,
    responses: { ...config.responses, ...STANDARD_RESPONSES },
    security: [{ [BEARER_SCHEME]: [] }],
    middleware: [requireApi(deps, permission)],
    description: [config.description, `Permission: \`${permission}\`.`].filter(Boolean).join('\n\n'),
  });
  deps.registry.add({ method: config.method.toUpperCase(), path: route.getRoutingPath(), permission });
  // The declared route and the handler's type agree by construction (WithStandard); OpenAPIHono cannot see it through the spread.
  app.openapi(route as never, handler as never);
}

/**
 * The routes of one part of the API, under one tag of the document: `route(permission, config, handler)`
 * is apiRoute with the app, the deps and the tag filled in.
 */
export function apiRoutes(app: ApiApp, deps: ApiDeps, tag: string) {
  return <const R extends Omit<ApiRouteConfig, 'tags'>>(permission: Permission, config: R, handler: RouteHandler<WithStandard<R & { tags: string[] }>, StaffEnv>) =>
    apiRoute(app, deps, permission, { ...config, tags: [tag] }, handler);
}

/** The English text of a problem code the customer rules name (`vinInvalid` …); other messages are already text. */
function problemText(translator: Translator, code: string, params: Record<string, string | number> | undefined): string {
  const key = `console-customers:errors.${code}`;
  return translator.has('en', key) ? translator.t('en', key, params) : code;
}

/** Field errors as the API answers them: the field, an English sentence, and the problem's code. */
export function fieldDetails(translator: Translator, errors: FieldError[]): z.infer<typeof FieldErrorSchema>[] {
  return errors.map((e) => ({ field: e.field, message: problemText(translator, e.code, e.params), code: e.code }));
}

/** zod's issues as field errors, one per field (the first problem of a field is the one to fix first). */
export function zodDetails(translator: Translator, error: ZodError, now: Date): z.infer<typeof FieldErrorSchema>[] {
  const out: z.infer<typeof FieldErrorSchema>[] = [];
  for (const issue of error.issues) {
    const field = issue.path.map(String).join('.') || (issue.code === 'invalid_type' ? 'body' : '');
    if (out.some((e) => e.field === field)) continue;
    // The customer rules name each problem with a code; zod's own messages are sentences already.
    const isCode = /^[a-zA-Z]+$/.test(issue.message);
    out.push(isCode ? { field, message: problemText(translator, issue.message, errorParams(issue.message, now)), code: issue.message } : { field, message: issue.message });
  }
  return out;
}

/** The OpenAPIHono for the API, answering bad input with the one 400 shape every route documents. */
export function newApiApp(deps: ApiDeps): ApiApp {
  const app = new OpenAPIHono<StaffEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return c.json({ error: 'invalid request', details: zodDetails(deps.translator, result.error, deps.clock.now()) }, 400);
    },
  });
  // Hono's validators refuse a body that is not JSON, or not of the declared type, by throwing; an integration still gets JSON back.
  app.onError((err, c) => {
    if (!(err instanceof HTTPException) || err.status >= 500) throw err;
    const message = err.message || 'the request could not be read';
    return c.json(err.status === 400 ? { error: 'invalid request', details: [{ field: 'body', message }] } : { error: message }, err.status);
  });
  return app;
}



export type ApiError = z.infer<typeof ErrorSchema>;

/**
 * A customer operation that was not carried out, as the API answers it. A merged profile is a 404 that
 * names the profile the person is now, so an integration can follow it; an erased one says so.
 * A conflict cannot come from the operations the API offers today, so it is an error for onError.
 */
export function failureBody(translator: Translator, failure: CustomerFailure, what = 'customer'): { status: 400; body: ApiError } | { status: 404; body: ApiError } {
  switch (failure.reason) {
    case 'invalid':
      return { status: 400, body: { error: 'invalid request', details: fieldDetails(translator, failure.errors) } };
    case 'not_found':
      return { status: 404, body: { error: `no such ${what}` } };
    case 'merged':
      return { status: 404, body: { error: `this customer was merged into ${failure.mergedInto}`, mergedInto: failure.mergedInto } };
    case 'erased':
      return { status: 404, body: { error: "this customer's data was erased on request", erased: true } };
    case 'conflict':
      throw new AppError('conflict', translator.t('en', `console-customers:conflict.${failure.code}`));
  }
}

/** A customer operation that was not carried out, answered as failureBody says (400 or 404). */
export function failureResponse<C extends Context>(c: C, translator: Translator, failure: CustomerFailure, what = 'customer') {
  const f = failureBody(translator, failure, what);
  return f.status === 400 ? c.json(f.body, 400) : c.json(f.body, 404);
}

/** One invalid field, as every route answers it. */
export function invalidField(field: string, message: string): ApiError {
  return { error: 'invalid request', details: [{ field, message }] };
}
