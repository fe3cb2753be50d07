/*
 * node scripts/run.mjs <command> [arguments…] — runs an operator command (scripts/<command>.ts) from its
 * compiled form in dist/scripts/, building dist/ first when it is missing or stale. The npm scripts
 * (`npm run staff:create`, `npm run backup`, …) go through here; where dist/ is deployed on its own,
 * `node --enable-source-maps dist/scripts/<command>.js` is the same thing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBuilt } from './build.mjs';

const command = process.argv[2];
const compiled = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'scripts', `${command}.js`);
if (!command || command.includes('/')) {
  console.error('usage: node scripts/run.mjs <command> [arguments…]');
  process.exit(2);
}
await ensureBuilt();
if (!existsSync(compiled)) {
  const commands = readdirSync(dirname(compiled)).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3));
  console.error(`no command "${command}"; there are: ${commands.join(', ')}`);
  process.exit(2);
}
// The command reads its own arguments from process.argv, as if it had been started directly.
process.argv.splice(2, 1);
process.setSourceMapsEnabled(true);
await import(pathToFileURL(compiled).href);
