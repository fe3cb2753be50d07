/*
 * npm run build — compiles the Node service and the operator commands to dist/ with esbuild:
 *
 *   dist/entry/node.js        the service (what `npm start` and a supervisor run)
 *   dist/scripts/<name>.js    every scripts/<name>.ts (staff:create, backup, restore, …)
 *   dist/chunks/*.js          code they share
 *
 * Each is one ES module with its dependencies bundled in (locales and migrations are imported, so they are
 * inside too); only better-sqlite3, a native addon, is loaded from node_modules at run time. Bundling is
 * what makes the compiled start small: Node keeps every loaded module's source text, and a few hundred
 * package files cost about 15 MB more than the same code in one file (BENCHMARKS.md). For the same reason
 * the output is minified (names kept, so stack traces still read) and pure ASCII: V8 holds a source with a
 * single character beyond ASCII (chrono-node's Japanese and Thai patterns) at two bytes a character. Source
 * maps sit beside each file (`node --enable-source-maps` maps stack traces back to the TypeScript).
 *
 * `node scripts/build.mjs --if-stale` builds only when dist/ is missing or older than anything it was built
 * from (every source and package file the last build read, this script, the list of scripts). `npm start`
 * runs it first, so `npm install && npm start` works on a fresh clone and after every change.
 *
 * `node scripts/build.mjs --release <folder>` also writes a folder that runs on its own, without the sources
 * or the development packages: dist/, the few packages left out of the bundle (and theirs), package.json,
 * the command runner and the rich menu pictures. The Dockerfile's last stage is that folder; a systemd
 * machine can take it as it is (README, "Running it in production").
 *
 * This file is plain JavaScript so it runs before anything is compiled, with Node alone.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const INFO = join(DIST, 'build-info.json');
const LOCK = join(DIST, '.build-lock');

/** Packages left out of the bundle: native addons, and pg's optional native binding, which is never installed. */
const EXTERNAL = ['better-sqlite3', 'pg-native'];
/** Dependencies of those packages that only their installation uses (better-sqlite3 fetches its addon with it). */
const INSTALL_ONLY = new Set(['prebuild-install']);

/** The entry points: the service, and every operator command in scripts/ (helpers live in scripts/lib/). */
function entryPoints() {
  const entries = { 'entry/node': 'src/entry/node.ts' };
  for (const file of readdirSync(join(ROOT, 'scripts')).sort()) {
    if (file.endsWith('.ts') && !file.endsWith('.d.ts')) entries[`scripts/${file.slice(0, -3)}`] = `scripts/${file}`;
  }
  return entries;
}

/** Why dist/ must be built again, or null when it is up to date. */
export function staleReason() {
  // A deployment that carries dist/ without the sources (the Docker image) has nothing to build from.
  if (!existsSync(join(ROOT, 'src/entry/node.ts'))) return existsSync(INFO) ? null : 'neither dist/ nor the sources are here';
  if (!existsSync(INFO)) return 'dist/ has not been built';
  let info;
  try {
    info = JSON.parse(readFileSync(INFO, 'utf8'));
  } catch {
    return 'dist/build-info.json is unreadable';
  }
  if (JSON.stringify(info.entries) !== JSON.stringify(entryPoints())) return 'the list of entry points changed';
  for (const output of Object.keys(info.entries)) {
    if (!existsSync(join(DIST, `${output}.js`))) return `dist/${output}.js is missing`;
  }
  for (const input of [...info.inputs, 'scripts/build.mjs', 'package.json']) {
    let mtime;
    try {
      mtime = statSync(join(ROOT, input)).mtimeMs;
    } catch {
      // A file no longer there was imported by one that changed since, which is caught as that change.
      continue;
    }
    if (mtime > info.startedAt) return `${input} changed`;
  }
  return null;
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** One build at a time (tests and `npm start` may race): a lock directory naming its holder's pid. */
async function withLock(fn) {
  mkdirSync(DIST, { recursive: true });
  const until = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
      } catch {
        // Written a moment after the directory; look again below.
      }
      if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > until) throw new Error(`another build holds ${relative(ROOT, LOCK)}; remove it if no build is running`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Writes a file whole or not at all, so a process starting during a build never loads half a module. */
function writeAtomically(path, contents) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
}

/**
 * esbuild escapes what lies beyond ASCII in strings, but leaves it in regular expression literals. The same
 * `\uXXXX` escape means the same there (a character beyond the BMP is two escapes, which a pattern reads
 * as one character with the `u` flag and as two code units without it, just as it read the original).
 */
function asciiOnly(code) {
  return code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export async function build() {
  const { build: esbuild } = await import('esbuild');
  const startedAt = Date.now();
  const entries = entryPoints();
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: entries,
    outdir: DIST,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    external: EXTERNAL,
    sourcemap: 'linked',
    // The maps point at the TypeScript files by path; stack traces need lines, not the sources themselves.
    sourcesContent: false,
    minifyWhitespace: true,
    minifySyntax: true,
    // Packages written as CommonJS call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  // Chunks first and entries last: an entry only ever names chunks already on disk.
  const isEntry = (path) => /\/(entry|scripts)\/[^/]+\.js$/.test(path);
  const files = [...result.outputFiles].sort((a, b) => Number(isEntry(a.path)) - Number(isEntry(b.path)));
  for (const file of files) writeAtomically(file.path, file.path.endsWith('.js') ? asciiOnly(file.text) : file.contents);
  const written = new Set(files.map((f) => f.path));
  for (const folder of ['chunks', 'scripts', 'entry']) {
    const dir = join(DIST, folder);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) if (!written.has(join(dir, name))) rmSync(join(dir, name), { force: true });
  }
  // The output is ES modules wherever dist/ is copied, whatever package.json sits above it there.
  writeAtomically(join(DIST, 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
  const externals = new Set();
  for (const output of Object.values(result.metafile.outputs)) for (const imp of output.imports) if (imp.external) externals.add(imp.path);
  writeAtomically(
    INFO,
    JSON.stringify({ startedAt, entries, inputs: Object.keys(result.metafile.inputs).sort(), externals: [...externals].sort() }, null, 1),
  );
  return { entries, files: files.length, ms: Date.now() - startedAt };
}

/** The packages dist/ loads at run time and what they depend on, as folders under node_modules/. */
function runtimePackages() {
  const { externals } = JSON.parse(readFileSync(INFO, 'utf8'));
  const found = new Map();
  const visit = (name, from) => {
    if (found.has(name) || INSTALL_ONLY.has(name)) return;
    // Node's own lookup: the package's own node_modules first, then each folder above it.
    let folder = null;
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) {
        folder = candidate;
        break;
      }
      if (dir === ROOT || dirname(dir) === dir) break;
    }
    if (!folder) return; // an optional package that is not installed (pg-native): its user copes without it
    found.set(name, folder);
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) visit(dep, folder);
  };
  for (const specifier of externals) {
    if (isBuiltin(specifier)) continue;
    visit(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0], ROOT);
  }
  return found;
}

/** A native package needs its JavaScript and its compiled addon, not the C sources and build leftovers beside them. */
function copyPackage(folder, to) {
  if (!existsSync(join(folder, 'binding.gyp'))) {
    cpSync(folder, to, { recursive: true });
    return;
  }
  cpSync(folder, to, {
    recursive: true,
    filter: (path) => {
      const inside = relative(folder, path);
      if (inside === '' || inside === 'package.json' || inside === 'lib' || inside.startsWith(`lib/`)) return true;
      if (inside === 'build' || inside === 'build/Release') return true;
      return /^build\/Release\/[^/]+\.node$/.test(inside) && !inside.endsWith('test_extension.node');
    },
  });
}

/** Writes the folder that runs without the sources (see the top of this file). */
export async function writeRelease(folder) {
  await ensureBuilt();
  const target = resolve(folder);
  if (existsSync(target) && readdirSync(target).length > 0 && !existsSync(join(target, 'dist', 'build-info.json'))) {
    throw new Error(`${target} is not empty and holds no earlier release; give an empty or new folder`);
  }
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  cpSync(DIST, join(target, 'dist'), { recursive: true, filter: (path) => !path.includes('.build-lock') });
  for (const file of ['package.json', 'scripts/build.mjs', 'scripts/run.mjs']) cpSync(join(ROOT, file), join(target, file));
  cpSync(join(ROOT, 'assets', 'rich-menu'), join(target, 'assets', 'rich-menu'), { recursive: true, filter: (path) => !/\.(ts|html)$/.test(path) });
  const packages = runtimePackages();
  for (const [name, from] of packages) copyPackage(from, join(target, 'node_modules', name));
  return { folder: target, packages: [...packages.keys()].sort() };
}

/** Builds when dist/ is stale (or always, with `force`); says so on stderr, which stays free for the program's output. */
export async function ensureBuilt({ force = false } = {}) {
  // The cheap look first, without the lock: a start with dist/ up to date takes a few milliseconds here.
  if (!force && staleReason() === null) return;
  await withLock(async () => {
    const reason = staleReason();
    if (!force && reason === null) return;
    const built = await build();
    console.error(`built dist/ (${reason ?? 'asked for'}): ${Object.keys(built.entries).length} entry points in ${built.ms} ms`);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const releaseAt = process.argv.indexOf('--release');
  if (releaseAt > 0) {
    const folder = process.argv[releaseAt + 1];
    if (!folder) throw new Error('usage: node scripts/build.mjs --release <folder>');
    const release = await writeRelease(folder);
    console.error(`release written to ${release.folder} (packages: ${release.packages.join(', ')})`);
  } else {
    await ensureBuilt({ force: !process.argv.includes('--if-stale') });
  }
}
