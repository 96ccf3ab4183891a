// `npm run check`: ESLint and Prettier side by side (one core each; one after the other they took
// twice as long), each one's output printed whole when it ends; fails if either fails.
import { spawn } from 'node:child_process';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (script) =>
  new Promise((resolve) => {
    const child = spawn(npm, ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('close', (code) => {
      process.stdout.write(out);
      resolve(code ?? 1);
    });
  });
const codes = await Promise.all([run('lint:code'), run('format:check')]);
process.exit(codes.some((c) => c !== 0) ? 1 : 0);
