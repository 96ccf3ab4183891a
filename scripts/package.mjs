// Bundles the action (dist/index.js) and the CLI (dist/cli/index.js) with ncc, the way runners run them.
// The two builds run side by side (one per core): together they took over 45 s one after the other.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
// The identity schema's validator is generated code in src/ (CI checks it is fresh, like dist/).
await run(process.execPath, ['scripts/gen-validators.mjs']);
const ncc = ['node_modules/@vercel/ncc/dist/ncc/cli.js', 'build', '--quiet', '--target', 'es2022'];
rmSync('dist', { recursive: true, force: true });
const builds = [
  [...ncc, 'src/index.ts', '-o', 'dist'],
  [...ncc, 'src/cli.ts', '-o', 'dist/cli'],
].map((args) =>
  run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }).then(({ stdout, stderr }) => {
    process.stdout.write(stdout);
    process.stderr.write(stderr);
  }),
);
const results = await Promise.allSettled(builds);
const failed = results.find((r) => r.status === 'rejected');
if (failed) {
  const e = failed.reason;
  process.stderr.write(`${e.stdout ?? ''}${e.stderr ?? ''}${e.message}\n`);
  process.exit(1);
}

/**
 * The third-party notices: ncc's --license lists only a few packages of an ESM build (GITHUB.md),
 * so they are written here, for every package the production dependencies pull in (a superset of
 * what each bundle holds), sorted by name, each with its license file.
 */
function notices() {
  const found = new Map();
  const resolve = (from, name) => {
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
      if (dirname(dir) === dir) return undefined;
    }
  };
  const visit = (dir) => {
    if (found.has(dir)) return;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    found.set(dir, pkg);
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      const child = resolve(dir, name);
      if (child) visit(child);
    }
  };
  const root = JSON.parse(readFileSync('package.json', 'utf8'));
  for (const name of Object.keys(root.dependencies)) visit(resolve(process.cwd(), name));
  const entries = [...found]
    .map(([dir, pkg]) => {
      const file = readdirSync(dir).find((f) => /^(licen[sc]e|copying)(\.(md|txt))?$/i.test(f));
      const text = file ? readFileSync(join(dir, file), 'utf8').trim() : '(no license file in the package)';
      const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'see the text');
      return { key: `${pkg.name}@${pkg.version}`, text: `${pkg.name} ${pkg.version}\n${license}\n${text}\n` };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const unique = entries.filter((e, i) => i === 0 || entries[i - 1].key !== e.key);
  return unique.map((e) => e.text).join('\n');
}
const text = notices();
writeFileSync('dist/licenses.txt', text);
writeFileSync('dist/cli/licenses.txt', text);
