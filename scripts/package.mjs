// Bundles the action (dist/index.js) and the CLI (dist/cli/index.js) with ncc, the way runners run them.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const ncc = ['node_modules/@vercel/ncc/dist/ncc/cli.js', 'build', '--quiet', '--target', 'es2022'];
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [...ncc, 'src/index.ts', '-o', 'dist', '--license', 'licenses.txt'], { stdio: 'inherit' });
execFileSync(process.execPath, [...ncc, 'src/cli.ts', '-o', 'dist/cli', '--license', 'licenses.txt'], { stdio: 'inherit' });
