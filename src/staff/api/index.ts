import { z } from '@hono/zod-openapi';
import { BODY_LIMITS, limitBody } from '../../http/body-limit';
import { registerAppointmentRoutes } from './appointments';
import { registerBranchRoutes } from './branches';
import { registerComplaintRoutes } from './complaints';
import { registerCsiRoutes } from './csi';
import { registerCustomerRoutes } from './customers';
import { registerRepairOrderRoutes } from './repair-orders';
import { createStaffServices } from '../services';
import { apiRoute, BEARER_SCHEME, jsonResponse, newApiApp, type ApiApp, type ApiContext, type ApiDeps } from './route';
import { registerVehicleRoutes } from './vehicles';

export type { ApiApp, ApiDeps } from './route';

/** The API's version in its document: the API's own, not the package's (which Workers cannot import). */
export const API_VERSION = '1';

/** The OpenAPI 3.1 document of an API app: the one `/api/openapi.json` serves and the console's docs page shows. */
export function apiDocument(api: ApiApp) {
  return api.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Dealer chat staff API',
      version: API_VERSION,
      description:
        'Customers, vehicles, branches, availability, appointments and repair orders for the dealership’s systems (a DMS, scripts). Every request carries an API token an administrator created in the console: `Authorization: Bearer dct_…`. A token acts with its role and sees only its branches. Bad input answers 400 with `details`, one entry per field.',
    },
    // Relative, so the document is right behind any host name or proxy.
    servers: [{ url: '/' }],
    security: [{ [BEARER_SCHEME]: [] }],
  });
}
export type ApiDocument = ReturnType<typeof apiDocument>;

const DocumentSchema = z.record(z.string(), z.unknown()).openapi({ description: 'An OpenAPI 3.1 document.' });

/**
 * The staff/DMS API under /api, described with OpenAPI. Each route is declared with apiRoute, which
 * records its permission and puts the token guard in front of validation; each calls the staff services
 * the console calls.
 */
export function createApi(apiDeps: ApiDeps): ApiApp {
  const deps: ApiContext = {
    ...apiDeps,
    services: createStaffServices({
      store: apiDeps.store,
      clock: apiDeps.clock,
      defaultLocale: apiDeps.config.dealer.defaultLocale,
      menuChoices: apiDeps.menuChoices,
      blobs: apiDeps.blobs,
      mediaLinks: apiDeps.mediaLinks,
      onOutbox: apiDeps.onOutbox,
      timeZone: apiDeps.config.dealer.timeZone,
    }),
  };
  const api = newApiApp(deps);
  api.use('/api/*', limitBody({ maxBytes: BODY_LIMITS.api }));
  api.openAPIRegistry.registerComponent('securitySchemes', BEARER_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token from the console (Staff console → API tokens), `dct_…`.',
  });

  let document: ApiDocument | null = null;
  apiRoute(
    api,
    deps,
    // Every role may read branches, so any valid token can read the document.
    'branches.read',
    {
      method: 'get',
      path: '/api/openapi.json',
      tags: ['API'],
      summary: 'This document',
      responses: { 200: jsonResponse(DocumentSchema, 'The OpenAPI 3.1 document of this API.') },
    },
    (c) => {
      document ??= apiDocument(api);
      return c.json(document as unknown as Record<string, unknown>, 200);
    },
  );

  registerCustomerRoutes(api, deps);
  registerVehicleRoutes(api, deps);
  registerBranchRoutes(api, deps);
  registerAppointmentRoutes(api, deps);
  registerComplaintRoutes(api, deps);
  registerRepairOrderRoutes(api, deps);
  registerCsiRoutes(api, deps);
  return api;
}
