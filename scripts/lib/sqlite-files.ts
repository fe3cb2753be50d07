import { migrations } from '../../migrations';
import { openSqliteFile } from '../../src/entry/node-store';

/** A refusal or a mistake the operator can act on: printed as one message, no stack trace. */
export class OperatorError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'OperatorError';
  }
}

export interface CopyCheck {
  /** The migrations the copy has had, oldest first. */
  migrations: string[];
  /** Those this version of the service does not know: the copy was made by a newer version. */
  unknown: string[];
}

/**
 * Checks that a file is a whole SQLite database of this service: SQLite's quick check finds no damage,
 * and it has the migrations table. Throws OperatorError saying what is wrong.
 */
export async function checkSqliteCopy(path: string): Promise<CopyCheck> {
  let sqlite;
  try {
    sqlite = await openSqliteFile(path, { readonly: true });
  } catch (err) {
    throw new OperatorError(`${path} cannot be opened as a SQLite database: ${(err as Error).message}`);
  }
  try {
    let problems: string[];
    try {
      problems = (sqlite.pragma('quick_check', { simple: false }) as { quick_check: string }[]).map((r) => r.quick_check);
    } catch (err) {
      throw new OperatorError(`${path} is not a usable SQLite database: ${(err as Error).message}`);
    }
    if (problems.join() !== 'ok') throw new OperatorError(`${path} is damaged (SQLite's quick check): ${problems.slice(0, 5).join('; ')}`);
    const hasTable = sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get();
    if (!hasTable) throw new OperatorError(`${path} is a SQLite database, but not one of this service (it has no migrations table).`);
    const applied = (sqlite.prepare('select name from kysely_migration order by name').all() as { name: string }[]).map((r) => r.name);
    return { migrations: applied, unknown: applied.filter((m) => !(m in migrations)) };
  } finally {
    sqlite.close();
  }
}
