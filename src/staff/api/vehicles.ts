import { z } from '@hono/zod-openapi';
import { isValidPlate, normalizePlate } from '../customers/normalize';
import { MIN_VEHICLE_YEAR, vehicleSchema } from '../customers/validation';
import { actionContext } from '../guard';
import { apiRoutes, failureResponse, jsonResponse, NOT_FOUND, type ApiApp, type ApiContext } from './route';
import { IdParams, toApiVehicle, VehicleSchema } from './schemas';

/**
 * The vehicle as a request sends it: the customer rules' own schema, except that the newest model year
 * ("next year") is checked by those rules at the time of the request, not fixed when the service started.
 */
function vehicleBody(now: Date) {
  return vehicleSchema(now).extend({
    year: z
      .number({ error: 'yearInvalid' })
      .int('yearInvalid')
      .min(MIN_VEHICLE_YEAR, 'yearRange')
      .nullable()
      .optional()
      .openapi({ description: `Model year, ${MIN_VEHICLE_YEAR} to next year.`, example: 2022 }),
    vin: vehicleSchema(now).shape.vin.openapi({ description: '17 letters and digits without I, O or Q; stored upper-case.', example: 'JTDBR32E720123456' }),
    plate: vehicleSchema(now).shape.plate.openapi({ description: '2–10 letters or digits once spaces, dashes and dots are left out; stored as typed, searched normalised.', example: 'ABC-1234' }),
  });
}

const VehicleListSchema = z.object({ items: z.array(VehicleSchema) }).openapi('VehicleList');

const CustomerParams = z.object({ id: IdParams.shape.id.openapi({ param: { name: 'id', in: 'path' }, description: 'The customer’s id.' }) });

const PlateQuery = z.object({
  plate: z
    .string({ error: 'plateRequired' })
    .max(20, 'plateInvalid')
    .refine((typed) => isValidPlate(normalizePlate(typed)), 'plateInvalid')
    .openapi({ description: 'The whole plate, however it is spaced or dashed.', example: 'abc 1234' }),
});

/** Vehicles: list and add a customer's, change one, and find who a plate belongs to. */
export function registerVehicleRoutes(app: ApiApp, deps: ApiContext): void {
  const route = apiRoutes(app, deps, 'Vehicles');
  const { translator } = deps;
  const { customers } = deps.services;
  const body = vehicleBody(deps.clock.now());

  route(
    'customers.read',
    { method: 'get', path: '/api/customers/{id}/vehicles', summary: 'List a customer’s vehicles', request: { params: CustomerParams }, responses: { 200: jsonResponse(VehicleListSchema, 'The vehicles, oldest first.'), 404: NOT_FOUND } },
    async (c) => {
      const found = await customers.vehicles(c.req.valid('param').id);
      if (!found.ok) return failureResponse(c, translator, found);
      return c.json({ items: found.value.map(toApiVehicle) }, 200);
    },
  );

  route(
    'customers.write',
    {
      method: 'post',
      path: '/api/customers/{id}/vehicles',
      summary: 'Add a vehicle to a customer',
      request: { params: CustomerParams, body: { required: true, content: { 'application/json': { schema: body.openapi('VehicleCreate') } } } },
      responses: { 201: jsonResponse(VehicleSchema, 'The new vehicle.'), 404: NOT_FOUND },
    },
    async (c) => {
      const added = await customers.addVehicle(actionContext(c, deps.clock), c.req.valid('param').id, c.req.valid('json'));
      if (!added.ok) return failureResponse(c, translator, added);
      return c.json(toApiVehicle(added.value), 201);
    },
  );

  route(
    'customers.write',
    {
      method: 'patch',
      path: '/api/vehicles/{id}',
      summary: 'Change a vehicle',
      description: 'Fields left out stay as they are; `null` clears an optional field. The plate cannot be cleared.',
      request: { params: IdParams, body: { required: true, content: { 'application/json': { schema: body.partial().openapi('VehicleUpdate') } } } },
      responses: { 200: jsonResponse(VehicleSchema, 'The vehicle as it is now.'), 404: NOT_FOUND },
    },
    async (c) => {
      const updated = await customers.updateVehicleById(actionContext(c, deps.clock), c.req.valid('param').id, c.req.valid('json'));
      if (!updated.ok) return failureResponse(c, translator, updated, 'vehicle');
      return c.json(toApiVehicle(updated.value), 200);
    },
  );

  route(
    'customers.read',
    {
      method: 'get',
      path: '/api/vehicles',
      summary: 'Find vehicles by plate',
      description: 'The whole plate, compared without case, spaces, dashes or dots. Vehicles of erased customers are not found.',
      request: { query: PlateQuery },
      responses: { 200: jsonResponse(VehicleListSchema, 'Vehicles with that plate (usually one), oldest first; each names its customer.') },
    },
    async (c) => {
      const rows = await customers.vehiclesByPlate(c.req.valid('query').plate, c.get('principal'));
      return c.json({ items: rows.map(toApiVehicle) }, 200);
    },
  );
}
