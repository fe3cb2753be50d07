/*
 * npm run staff:create -- --email someone@dealer.example --role admin [--name "…"] [--locale en]
 *                         [--branch <id or name>]… [--password-stdin | --generate-password]
 *
 * Creates a staff account in the database DATABASE_URL names (the SQLite file under ./data/ by default).
 * The password is asked for twice (hidden) on a terminal, read from standard input with --password-stdin,
 * or made up and printed once with --generate-password. There is no default password.
 *
 * With --sql FILE nothing is written to a database: the account's rows are written to FILE as SQL, for a
 * database this command cannot reach, D1 on Workers (`npx wrangler d1 execute dealer-chat --remote --file
 * FILE`). Such an account is for all branches (an admin, or --branch all); the admin then adds the others in
 * the console. The password hash is the same on Node and on Workers.
 */
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { ConfigError, parseConfig } from '../src/config';
import { openNodeStore } from '../src/entry/node-store';
import { AccountError, createStaffAccount } from '../src/staff/accounts';
import { randomToken } from '../src/staff/auth/crypto';
import { seedFreshDatabase } from '../src/store/seed';

function ask(question: string, hidden: boolean): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    if (hidden) {
      // Echo nothing of what is typed after the question.
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.includes(question)) process.stdout.write(s);
      };
    }
    rl.question(question, (answer) => {
      rl.close();
      if (hidden) process.stdout.write('\n');
      resolve(answer);
    });
  });
}

async function readStdin(): Promise<string> {
  let data = '';
  for await (const chunk of process.stdin) data += chunk;
  return data.split(/\r?\n/)[0] ?? '';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      locale: { type: 'string' },
      branch: { type: 'string', multiple: true },
      'password-stdin': { type: 'boolean', default: false },
      'generate-password': { type: 'boolean', default: false },
      sql: { type: 'string' },
    },
  });
  if (!values.email || !values.role) {
    console.error('usage: npm run staff:create -- --email <email> --role <advisor|care|manager|admin> [--name <name>] [--locale <zh-TW|zh-CN|en|ja|th>] [--branch <id or name>]… [--password-stdin | --generate-password] [--sql <file>]');
    process.exit(2);
  }
  const config = parseConfig(process.env);
  let password: string;
  if (values['generate-password']) password = randomToken(15);
  else if (values['password-stdin'] || !process.stdin.isTTY) password = await readStdin();
  else {
    password = await ask('Password (12+ characters): ', true);
    if ((await ask('Same password again: ', true)) !== password) throw new AccountError('the two passwords differ');
  }
  const toSql = values.sql;
  const branches = values.branch?.includes('all') ? 'all' : (values.branch ?? []);
  if (toSql && branches !== 'all' && branches.length > 0) {
    throw new AccountError('--sql writes an account for all branches (an admin, or --branch all); add branch staff in the console afterwards');
  }
  // For --sql, a scratch database with the same schema holds the account until its rows are written out.
  const store = await openNodeStore(toSql ? { kind: 'sqlite', path: ':memory:' } : config.database);
  try {
    if (!toSql) await seedFreshDatabase(store, config, new Date());
    const { user, branchIds } = await createStaffAccount(
      store,
      { email: values.email, name: values.name, role: values.role, locale: values.locale, password, branches: branches.length === 0 && values.role !== 'admin' ? 'all' : branches },
      { kind: 'cli', label: `cli:${process.env.USER ?? 'operator'}` },
      new Date(),
      { defaultLocale: config.dealer.defaultLocale },
    );
    if (toSql) {
      writeFileSync(toSql, await insertStatements(store.db, ['staff_users', 'staff_branches', 'audit_log']));
      console.log(`Wrote ${user.role} ${user.email} (${user.id}), for all branches, to ${toSql}. Run: npx wrangler d1 execute dealer-chat --remote --file ${toSql}`);
    } else {
      console.log(`Created ${user.role} ${user.email} (${user.id}) for ${branchIds.length} branch(es). Sign in at /console/login.`);
    }
    if (values['generate-password']) console.log(`Password (shown once): ${password}`);
  } finally {
    await store.close();
  }
}

/** Every row of these tables as INSERT statements (SQLite quoting, which D1 reads). */
async function insertStatements(db: Kysely<any>, tables: string[]): Promise<string> {
  const literal = (v: unknown): string => (v === null || v === undefined ? 'NULL' : typeof v === 'number' || typeof v === 'bigint' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
  const lines: string[] = [];
  for (const table of tables) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db)).rows;
    for (const row of rows) {
      const columns = Object.keys(row).filter((c) => !(table === 'audit_log' && c === 'id'));
      lines.push(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => literal(row[c])).join(', ')});`);
    }
  }
  return `${lines.join('\n')}\n`;
}

main().catch((err) => {
  if (err instanceof AccountError || err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  console.error(err);
  process.exit(1);
});
