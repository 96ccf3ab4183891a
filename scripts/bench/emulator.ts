/**
 * The emulator as its own process (`tsx src/cli.ts emulator …`), so it does not compete with the
 * process under measurement for the event loop, and its admin API (request log, bucket reset).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { ReadyLine, RequestLogEntry } from '../../src/emulator/server.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

export interface EmulatorProcess {
  ready: ReadyLine;
  ca: string;
  admin(method: 'GET' | 'POST', route: string, body?: unknown): Promise<any>;
  /** ARM requests logged so far (the emulator logs every non-admin request, with its status). */
  log(): Promise<RequestLogEntry[]>;
  /** Both token buckets full again (ARM's defaults), latency kept. */
  refillBuckets(): Promise<void>;
  close(): Promise<void>;
}

const NON_ARM = /^\/(github-oidc|github-api)(\/|$)|^\/[^/]+\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys)$/i;
export const isArm = (e: RequestLogEntry) => !NON_ARM.test(e.path);
export const isRead = (e: RequestLogEntry) => e.method === 'GET' || e.method === 'HEAD';

/** ARM requests of a slice of the log: reads and writes that were served, 429s, other failures. */
export function countArm(entries: RequestLogEntry[]) {
  const arm = entries.filter(isArm);
  const served = (e: RequestLogEntry) => e.status !== 429 && e.status !== 0;
  return {
    requests: arm.length,
    reads: arm.filter((e) => isRead(e) && served(e)).length,
    writes: arm.filter((e) => !isRead(e) && served(e)).length,
    throttled: arm.filter((e) => e.status === 429).length,
    serverErrors: arm.filter((e) => e.status >= 500 || e.status === 0).length,
  };
}

/** `seedDir`: one service; `args`: more emulator flags instead (e.g. `--service name=dir` repeated, `--client id`). */
export async function startEmulatorProcess(options: { seedDir?: string; latencyMs: number; throttle: boolean; args?: string[] }): Promise<EmulatorProcess> {
  const args = [join(ROOT, 'src', 'cli.ts'), 'emulator', '--port', '0', ...(options.seedDir ? ['--seed', options.seedDir] : []), '--latency-ms', String(options.latencyMs), ...(options.args ?? [])];
  if (options.throttle) args.push('--throttle');
  const child: ChildProcess = spawn(TSX, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        child.stdout!.off('data', onData);
        try {
          resolve(JSON.parse(out.slice(0, nl)) as ReadyLine);
        } catch (e) {
          reject(new Error(`emulator printed no ready line: ${out.slice(0, 200)}`));
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`emulator exited (${code}) before it was ready: ${stderr}`)));
  });
  const ca = readFileSync(ready.env.NODE_EXTRA_CA_CERTS, 'utf8');

  const admin = (method: 'GET' | 'POST', route: string, body?: unknown): Promise<any> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const r = request(
        `${ready.adminUrl}${route}`,
        { method, ca, agent: false, headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {} },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 500) >= 400) reject(new Error(`admin ${method} ${route}: ${res.statusCode} ${text}`));
            else resolve(text ? JSON.parse(text) : undefined);
          });
        },
      );
      r.on('error', reject);
      r.end(payload);
    });

  return {
    ready,
    ca,
    admin,
    log: async () => ((await admin('GET', 'requests')) as { log: RequestLogEntry[] }).log,
    refillBuckets: async () => {
      await admin('POST', 'faults', { latencyMs: options.latencyMs, throttle: options.throttle });
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
