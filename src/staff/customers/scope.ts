import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../../store/schema';
import { customerScope, type Principal } from '../permissions';

/** The records that tie a customer to a branch. */
const TIES = ['appointments', 'repair_orders', 'complaints'] as const;

/**
 * The customers `principal` may see, as a condition on the customers table (see customerScope in
 * permissions.ts): every one for the whole dealership, else those with a tie to one of the principal's
 * branches or with no tie to any branch. Lists add it to their query; single customers are checked with
 * canSeeCustomer. Both the console and the API read customers only through these.
 */
export function visibleCustomers(principal: Principal) {
  const scope = customerScope(principal);
  return (eb: ExpressionBuilder<Database, 'customers'>): Expression<SqlBool> => {
    if (scope.kind === 'all') return sql<SqlBool>`1 = 1`;
    const tied = (table: (typeof TIES)[number], branchIds: readonly string[] | null) => {
      let q = eb.selectFrom(table).select(sql`1`.as('one')).whereRef(`${table}.customer_id`, '=', 'customers.id');
      if (branchIds) q = q.where(`${table}.branch_id`, 'in', branchIds);
      return eb.exists(q);
    };
    const untied = eb.and(TIES.map((t) => eb.not(tied(t, null))));
    return scope.branchIds.length ? eb.or([...TIES.map((t) => tied(t, scope.branchIds)), untied]) : untied;
  };
}

/** Whether `principal` may see the customer with this id (an id that does not exist is "visible": the caller then says not found). */
export async function canSeeCustomer(db: Kysely<Database>, principal: Principal, customerId: string): Promise<boolean> {
  if (customerScope(principal).kind === 'all') return true;
  const exists = await db.selectFrom('customers').select('id').where('id', '=', customerId).executeTakeFirst();
  if (!exists) return true;
  const row = await db.selectFrom('customers').select('id').where('id', '=', customerId).where(visibleCustomers(principal)).executeTakeFirst();
  return row !== undefined;
}

/** Whether `principal` may see the customer who owns this vehicle (an unknown vehicle is left to the caller's not found). */
export async function canSeeVehicle(db: Kysely<Database>, principal: Principal, vehicleId: string): Promise<boolean> {
  const vehicle = await db.selectFrom('vehicles').select('customer_id').where('id', '=', vehicleId).executeTakeFirst();
  return vehicle ? canSeeCustomer(db, principal, vehicle.customer_id) : true;
}
