/*
 * npm run restore -- <file>
 *
 * Puts a backup (from `npm run backup`, or a copy kept before an upgrade in data/backups/) back as the
 * SQLite database DATABASE_URL names. Refused while the service runs: the service holds an exclusive lock
 * on <database>.lock for as long as it lives, and the restore takes the same lock, so neither can start
 * while the other works. The database being replaced is kept first, in backups/ beside it
 * (<name>-before-restore-<time>.sqlite). The backup is checked before anything changes: SQLite's quick
 * check, this service's migrations table, and no migration newer than this version knows. A backup from an
 * older version is fine: the next start migrates it (keeping a copy first). On Postgres, use pg_restore.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { migrations } from '../migrations';
import { ConfigError, parseConfig } from '../src/config';
import { backupsFolder, claimSqliteFile, copySqliteDatabase, openSqliteFile, SqliteFileInUse, type SqliteClaim } from '../src/entry/node-store';
import { checkSqliteCopy, OperatorError } from './lib/sqlite-files';

async function main(): Promise<void> {
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new OperatorError('usage: npm run restore -- <backup file>', 2);
  const backup = resolve(positionals[0]!);
  const config = parseConfig(process.env);
  if (config.database.kind !== 'sqlite' || config.database.path === ':memory:') {
    throw new OperatorError('DATABASE_URL names a Postgres database: restore it with pg_restore (see "Backups" in the README), e.g.\n  pg_restore --clean --if-exists --no-owner --dbname="$DATABASE_URL" <file>', 2);
  }
  const target = resolve(config.database.path);
  if (!existsSync(backup)) throw new OperatorError(`There is no backup at ${backup}.`, 2);
  if (backup === target) throw new OperatorError(`${backup} is the database itself, not a backup of it.`, 2);

  const check = await checkSqliteCopy(backup);
  if (check.unknown.length > 0) {
    const latest = Object.keys(migrations).sort().at(-1);
    throw new OperatorError(
      `${backup} was made by a newer version of the service (it has ${check.unknown.join(', ')}; this version knows up to ${latest}). Restore it with that version.`,
    );
  }

  let claim: SqliteClaim;
  try {
    claim = await claimSqliteFile(target);
  } catch (err) {
    if (err instanceof SqliteFileInUse) throw new OperatorError(`Not restoring: ${err.message}. Stop the service first (systemctl stop dealer-chat, docker compose stop app, or Ctrl-C), then run the restore again.`, 75);
    throw err;
  }
  try {
    let kept: string | null = null;
    if (existsSync(target)) {
      // The database being replaced may hold what the backup lacks: keep it, WAL and all, before anything moves.
      const name = basename(target).replace(/\.(sqlite3?|db)$/, '');
      kept = join(backupsFolder(target), `${name}-before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}.sqlite`);
      const current = await openSqliteFile(target);
      try {
        await copySqliteDatabase(current, kept);
      } finally {
        current.close();
      }
    }
    // The backup is copied beside the database and renamed over it: the database file is always whole, the
    // old one or the restored one. Its WAL and shared-memory files belong to the old one and must go first.
    const incoming = `${target}.restoring-${process.pid}`;
    const source = await openSqliteFile(backup, { readonly: true });
    try {
      await copySqliteDatabase(source, incoming);
    } finally {
      source.close();
    }
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${target}${suffix}`, { force: true });
    renameSync(incoming, target);
    console.log(
      `Restored ${target} from ${backup} (${(statSync(target).size / 1048576).toFixed(1)} MiB, migrations up to ${check.migrations.at(-1) ?? 'none'}).` +
        (kept ? `\nThe database it replaced is kept as ${kept}.` : ''),
    );
  } finally {
    claim.release();
  }
}

main().catch((err) => {
  if (err instanceof OperatorError || err instanceof ConfigError) {
    console.error(err.message);
    process.exit(err instanceof OperatorError ? err.exitCode : 78);
  }
  console.error(err);
  process.exit(1);
});
