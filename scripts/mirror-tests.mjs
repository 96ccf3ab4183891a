// Moves each top-level __tests__/*.test.ts into the folder of the room it tests (__tests__/<room>/…,
// mirroring src/), with `git mv` when the file is tracked, and fixes what depends on where a test
// lives: its relative imports (`../src/` → `../../src/`, `./helpers/` → `../helpers/`), jest module
// mocks, `new URL('…', import.meta.url)` paths, a `__snapshots__` file, and the paths other files
// cite (README.md's "*Tests:*" lines, comments in src/ and scripts/).
// Idempotent: it only looks at __tests__/*.test.ts, so a second run finds nothing to move.
// Helpers stay in __tests__/helpers/ (their paths are relative to themselves, ROOT included).
//
//   node scripts/mirror-tests.mjs            move, rewrite, print what moved
//   node scripts/mirror-tests.mjs --dry-run  print what would move
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..');
const TESTS = join(ROOT, '__tests__');
const dryRun = process.argv.includes('--dry-run');

/** The rooms of ARCHITECTURE.md (eslint.config.js has the same table). */
const ROOMS = ['model', 'policy-xml', 'desired', 'lint', 'plan', 'render', 'azure', 'ci', 'github', 'cli', 'emulator'];

/**
 * Where each of today's tests goes, by what it tests (its name, its header comment, its imports).
 * Process tests of the bundles go to the room of their entry's face: the action (dist/index.js) →
 * github/, the CLI (dist/cli/index.js) → cli/.
 */
const TABLE = {
  'action.test.ts': 'github/action.test.ts',
  'action-github.test.ts': 'github/action-github.test.ts',
  'action-live.test.ts': 'github/action-live.test.ts',
  'bundle.test.ts': 'github/bundle.test.ts',
  'readme.test.ts': 'github/readme.test.ts',
  'github-units.test.ts': 'github/units.test.ts',
  'safety-pr-comment.test.ts': 'github/safety-pr-comment.test.ts',
  'azure-scheduler.test.ts': 'azure/scheduler.test.ts',
  'cli.test.ts': 'cli/commands.test.ts',
  'version.test.ts': 'cli/version.test.ts',
  'live-cli.test.ts': 'cli/live.test.ts',
  'identity-live.test.ts': 'cli/identity-live.test.ts',
  'safety-apply.test.ts': 'cli/safety-apply.test.ts',
  'safety-big-diff.test.ts': 'cli/safety-big-diff.test.ts',
  'safety-files.test.ts': 'cli/safety-files.test.ts',
  'safety-ids.test.ts': 'cli/safety-ids.test.ts',
  'safety-plan-guard.test.ts': 'cli/safety-plan-guard.test.ts',
  'desired.test.ts': 'desired/load-tree.test.ts',
  'identity-manifest.test.ts': 'desired/identity-manifest.test.ts',
  'emulator-cli.test.ts': 'emulator/cli.test.ts',
  'lint.test.ts': 'lint/runner.test.ts',
  'live-units.test.ts': 'plan/live-units.test.ts',
  'plan.test.ts': 'plan/compute.test.ts',
  'safety-apply-units.test.ts': 'plan/safety-apply-units.test.ts',
  'safety-plan-guard-units.test.ts': 'plan/safety-plan-guard-units.test.ts',
  'render.test.ts': 'render/render.test.ts',
  'safety-markdown.test.ts': 'render/safety-markdown.test.ts',
};

/** A test the table does not know: `<room>-rest.test.ts` → <room>/rest.test.ts, else the room it imports most from src/. */
function guess(name, text) {
  const prefix = ROOMS.filter((r) => name.startsWith(`${r}-`)).sort((a, b) => b.length - a.length)[0];
  if (prefix) return `${prefix}/${name.slice(prefix.length + 1)}`;
  if (name.startsWith('action-')) return `github/${name}`;
  const counts = new Map();
  for (const m of text.matchAll(/['"]\.\.\/src\/([^/'"]+)\//g)) if (ROOMS.includes(m[1])) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  const best = [...counts].sort((a, b) => b[1] - a[1])[0];
  return best ? `${best[0]}/${name}` : undefined;
}

/**
 * A specifier relative to the old folder, rewritten relative to the new one (same spelling: `./`,
 * trailing `/`) — only when it names something that exists from the old folder (`.js` standing for
 * `.ts`), so that a path inside a string for another process (a `node -e` script run in ROOT) stays.
 */
function rebase(spec, fromDir, toDir) {
  if (!spec.startsWith('./') && !spec.startsWith('../') && spec !== '.' && spec !== '..') return spec;
  const target = posix.normalize(posix.join(fromDir, spec));
  const candidates = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts')];
  if (!candidates.some((c) => existsSync(join(ROOT, c)))) return spec;
  let out = posix.relative(toDir, target) || '.';
  if (!out.startsWith('.')) out = `./${out}`;
  if (spec.endsWith('/') && !out.endsWith('/')) out += '/';
  return out;
}

/** Rewrites the path-bearing string literals of a test (ESM): import/export from, import(), jest mocks, new URL(…, import.meta.url). */
function rewrite(text, fromDir, toDir) {
  const fix = (_m, head, q, spec) => `${head}${q}${rebase(spec, fromDir, toDir)}${q}`;
  return text
    .replace(/(\bfrom\s*)(['"])(\.{1,2}(?:\/[^'"]*)?)\2/g, fix)
    .replace(/(\bimport\s*)(['"])(\.{1,2}(?:\/[^'"]*)?)\2/g, fix)
    .replace(/(\b(?:import|jest\.(?:unstable_mockModule|mock|doMock|unmock|requireActual|requireMock))\(\s*)(['"])(\.{1,2}(?:\/[^'"]*)?)\2/g, fix)
    .replace(/(\bnew URL\(\s*)(['"])(\.{1,2}(?:\/[^'"]*)?)\2(?=\s*,\s*import\.meta\.url)/g, fix);
}

const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tracked = (rel) => {
  try {
    git('ls-files', '--error-unmatch', rel);
    return true;
  } catch {
    return false;
  }
};
function move(fromRel, toRel) {
  if (dryRun) return;
  mkdirSync(dirname(join(ROOT, toRel)), { recursive: true });
  if (tracked(fromRel)) git('mv', fromRel, toRel);
  else renameSync(join(ROOT, fromRel), join(ROOT, toRel));
}

// First the whole plan, so that a clash stops the script before it moves anything.
const plan = [];
const left = [];
for (const name of readdirSync(TESTS).sort()) {
  if (!name.endsWith('.test.ts') || !statSync(join(TESTS, name)).isFile()) continue;
  const fromRel = `__tests__/${name}`;
  const text = readFileSync(join(ROOT, fromRel), 'utf8');
  const dest = TABLE[name] ?? guess(name, text);
  if (dest) plan.push({ name, fromRel, toRel: `__tests__/${dest}`, text, rewritten: rewrite(text, '__tests__', posix.dirname(`__tests__/${dest}`)) });
  else left.push(fromRel);
}
const clashes = plan.filter((p, i) => existsSync(join(ROOT, p.toRel)) || plan.findIndex((q) => q.toRel === p.toRel) !== i);
if (clashes.length > 0) {
  for (const p of clashes) console.error(`${p.fromRel}: ${p.toRel} exists already (or twice in the plan); give it another name in TABLE`);
  process.exit(1);
}

const moved = new Map(); // old path → new path, relative to the repository
for (const { name, fromRel, toRel, text, rewritten } of plan) {
  move(fromRel, toRel);
  if (!dryRun && rewritten !== text) writeFileSync(join(ROOT, toRel), rewritten);
  moved.set(fromRel, toRel);
  const snap = `__tests__/__snapshots__/${name}.snap`;
  if (existsSync(join(ROOT, snap))) {
    const toSnap = `${posix.dirname(toRel)}/__snapshots__/${posix.basename(toRel)}.snap`;
    move(snap, toSnap);
    moved.set(snap, toSnap);
  }
}

/** Other files that cite a moved test by path. */
function citing() {
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!['node_modules', 'dist', 'build', '.git', 'fixtures', 'policies', 'coverage'].includes(entry.name)) walk(rel);
      } else if (/\.(md|ts|mjs|js|json|yml|yaml)$/.test(entry.name) && entry.name !== 'package-lock.json') out.push(rel);
    }
  };
  walk('');
  return out;
}
const cited = [];
if (moved.size > 0) {
  const pattern = new RegExp([...moved.keys()].map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|') + '(?![\\w.-])', 'g');
  for (const rel of citing()) {
    if (rel === 'scripts/mirror-tests.mjs') continue;
    const path = join(ROOT, rel);
    const text = readFileSync(path, 'utf8');
    const next = text.replace(pattern, (m) => moved.get(m));
    if (next !== text) {
      cited.push(rel);
      if (!dryRun) writeFileSync(path, next);
    }
  }
}

for (const [from, to] of moved) console.log(`${dryRun ? 'would move' : 'moved'} ${from} → ${to}`);
for (const rel of cited) console.log(`${dryRun ? 'would update' : 'updated'} the test paths cited in ${rel}`);
for (const rel of left) console.log(`left ${rel}: no room found (add it to TABLE in scripts/mirror-tests.mjs)`);
if (moved.size === 0 && left.length === 0) console.log('every test already lives in its room');
