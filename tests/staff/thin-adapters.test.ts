import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * Console pages and API routes are adapters: they read the request, check who asks, call a staff service
 * and render the answer. Queries and transactions live in the services (src/staff/<feature>/), so each is
 * written once; this test fails when one creeps back into an adapter.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const ADAPTER_FOLDERS = ['src/staff/console', 'src/staff/api'];

/** What only a service may write: building or running a query, a transaction, a lock, or the database itself. */
const FORBIDDEN: { name: string; pattern: RegExp }[] = [
  { name: 'selectFrom', pattern: /\bselectFrom\s*\(/ },
  { name: 'insertInto', pattern: /\binsertInto\s*\(/ },
  { name: 'updateTable', pattern: /\bupdateTable\s*\(/ },
  { name: 'deleteFrom', pattern: /\bdeleteFrom\s*\(/ },
  { name: 'sql template', pattern: /\bsql\s*(<[^>]*>)?\s*`/ },
  { name: '.transaction(', pattern: /\.transaction\s*\(/ },
  { name: 'store.lock', pattern: /\.lock\s*\(\s*tx\b/ },
  { name: 'store.db', pattern: /\bstore\s*\.\s*db\b/ },
  { name: 'a transaction (tx)', pattern: /\btx\s*[.,)]/ },
  { name: "import from 'kysely'", pattern: /from\s+['"]kysely['"]/ },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx)$/.test(name) ? [path] : [];
  });
}

/** Every forbidden use in the adapter folders, as `file:line  what`. */
function queriesInAdapters(root: string): string[] {
  const found: string[] = [];
  for (const folder of ADAPTER_FOLDERS) {
    for (const file of sourceFiles(join(root, folder))) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        // Comments may name what they explain.
        const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
        for (const { name, pattern } of FORBIDDEN) if (pattern.test(code)) found.push(`${relative(root, file)}:${i + 1}  ${name}`);
      });
    }
  }
  return found;
}

describe('console pages and API routes', () => {
  it('write no query, transaction or lock of their own: they call the staff services', () => {
    expect(queriesInAdapters(ROOT)).toEqual([]);
  });

  it('are found by the scan when they do', () => {
    // The scan itself must be able to fail: each pattern catches the line it is about.
    const samples = [
      "await store.db.selectFrom('customers').selectAll().execute();",
      "await tx.insertInto('bays').values(row).execute();",
      "await db.updateTable('branches').set(changes).execute();",
      "await db.deleteFrom('staff_sessions').execute();",
      'const n = sql<number>`count(*)`;',
      'await deps.store.transaction(async (tx) => run(tx));',
      'await store.lock(tx, key);',
      "import { sql } from 'kysely';",
    ];
    for (const sample of samples) expect(FORBIDDEN.some(({ pattern }) => pattern.test(sample)), sample).toBe(true);
  });
});
