/*
 * npm run backup -- <file> [--force]
 *
 * Copies the SQLite database DATABASE_URL names (./data/dealer-chat.sqlite by default) to <file> while the
 * service keeps running: one consistent snapshot, every transaction committed before the copy began and
 * none half-written (see copySqliteDatabase). The copy is checked (`PRAGMA quick_check`) before it is
 * reported. An existing <file> is kept unless --force is given. On Postgres, use pg_dump (README).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, parseConfig } from '../src/config';
import { copySqliteDatabase, openSqliteFile } from '../src/entry/node-store';
import { checkSqliteCopy, OperatorError } from './lib/sqlite-files';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { force: { type: 'boolean', default: false } } });
  if (positionals.length !== 1) throw new OperatorError('usage: npm run backup -- <file> [--force]', 2);
  const destination = resolve(positionals[0]!);
  const config = parseConfig(process.env);
  if (config.database.kind !== 'sqlite' || config.database.path === ':memory:') {
    throw new OperatorError('DATABASE_URL names a Postgres database: back it up with pg_dump (see "Backups" in the README), e.g.\n  pg_dump --format=custom --file=<file> "$DATABASE_URL"', 2);
  }
  const source = resolve(config.database.path);
  if (!existsSync(source)) throw new OperatorError(`There is no database at ${source} to back up.`);
  if (destination === source) throw new OperatorError('The backup must go to another file than the database itself.', 2);
  if (existsSync(destination) && !values.force) throw new OperatorError(`${destination} exists; choose another name or add --force to replace it.`, 2);

  const started = Date.now();
  const sqlite = await openSqliteFile(source, { readonly: true });
  let pages: number;
  try {
    ({ pages } = await copySqliteDatabase(sqlite, destination));
  } finally {
    sqlite.close();
  }
  const copied = Date.now();
  const check = await checkSqliteCopy(destination);
  const size = statSync(destination).size;
  console.log(
    `Backed up ${source} to ${destination}: ${(size / 1048576).toFixed(1)} MiB, ${pages} pages, in ${((copied - started) / 1000).toFixed(1)} s ` +
      `(checked in ${((Date.now() - copied) / 1000).toFixed(1)} s; migrations up to ${check.migrations.at(-1) ?? 'none'}).`,
  );
}

main().catch((err) => {
  if (err instanceof OperatorError || err instanceof ConfigError) {
    console.error(err.message);
    process.exit(err instanceof OperatorError ? err.exitCode : 78);
  }
  console.error(err);
  process.exit(1);
});
