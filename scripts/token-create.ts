/*
 * npm run token:create -- --name DMS --role manager [--branch <id or name>]…
 *
 * Creates an API token for an integration and prints it once; only its hash is kept. Without --branch the
 * token reaches every branch. Admins can also create and revoke tokens in the console.
 */
import { parseArgs } from 'node:util';
import { ConfigError, parseConfig } from '../src/config';
import { openNodeStore } from '../src/entry/node-store';
import { AccountError, createApiTokenAccount } from '../src/staff/accounts';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { name: { type: 'string' }, role: { type: 'string', default: 'manager' }, branch: { type: 'string', multiple: true } } });
  if (!values.name) {
    console.error('usage: npm run token:create -- --name <what uses it> [--role advisor|care|manager] [--branch <id or name>]…');
    process.exit(2);
  }
  const config = parseConfig(process.env);
  const store = await openNodeStore(config.database);
  try {
    const created = await createApiTokenAccount(store, { name: values.name, role: values.role!, branches: values.branch?.length ? values.branch : 'all' }, { kind: 'cli', label: `cli:${process.env.USER ?? 'operator'}` }, new Date());
    console.log(`Token "${values.name}" (${created.id}). Shown once, keep it safe:\n${created.token}`);
  } finally {
    await store.close();
  }
}

main().catch((err) => {
  console.error(err instanceof AccountError || err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
