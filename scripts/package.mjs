// Bundles the action (dist/index.js) and the CLI (dist/cli/index.js) with ncc, the way runners run them.
// The two builds run side by side (one per core): together they took over 45 s one after the other.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ncc = ['node_modules/@vercel/ncc/dist/ncc/cli.js', 'build', '--quiet', '--target', 'es2022'];
rmSync('dist', { recursive: true, force: true });
const builds = [
  [...ncc, 'src/index.ts', '-o', 'dist', '--license', 'licenses.txt'],
  [...ncc, 'src/cli.ts', '-o', 'dist/cli', '--license', 'licenses.txt'],
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
