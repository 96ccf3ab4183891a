import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = resolve(ROOT, 'dist/cli/index.js');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the bundled CLI as a user would: `node dist/cli/index.js …`. */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    encoding: 'utf8',
    timeout: 60000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Waits for a spawned child, collecting what it prints; kills it after two minutes. */
export function collect(child: ChildProcessByStdio<null, Readable, Readable>): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? -1, stdout, stderr });
    });
  });
}

/**
 * The same, without blocking the event loop: for tests whose emulator runs in the test process
 * (a synchronous spawn would stop it from answering).
 */
export function runCliAsync(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return collect(
    spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/**
 * stderr without the progress lines a run prints when it takes over a second (`read 3/17`, see
 * src/cli/progress.ts): whether they appear depends on the machine's speed, not on the code.
 */
export const withoutProgress = (stderr: string): string => stderr.replace(/^[A-Za-z][A-Za-z ]* \d+\/\d+\n/gm, '');
