import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadPolicyTree } from '../desired/load-tree.js';
import { startEmulator } from '../emulator/server.js';
import { addressKey, parsePolicyAddress } from '../model/address.js';
import type { Plan, PolicyResource, State } from '../model/index.js';
import { computePlan, hasChanges } from '../plan/compute.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderText } from '../render/text.js';
import { failOnErrors } from './errors.js';

/** The checkout root: the CLI runs from dist/cli/ (bundle) or src/cli/ (tests); both are two levels down. */
export function projectRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** A JSON call to the emulator's admin API over HTTPS, trusting the emulator's CA. */
function adminCall(url: string, ca: string, body?: unknown): Promise<unknown> {
  return new Promise((resolveCall, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method: payload ? 'POST' : 'GET', ca, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`${url}: HTTP ${res.statusCode} ${text}`));
        else resolveCall(text ? JSON.parse(text) : undefined);
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The emulator's live policies as a State (what the live reader will do through ARM). */
async function readLive(adminUrl: string, ca: string): Promise<State> {
  const { resources } = (await adminCall(`${adminUrl}state`, ca)) as {
    resources: Record<string, { value: unknown; etag: string; description?: string }>;
  };
  const live = new Map<string, PolicyResource>();
  for (const [address, r] of Object.entries(resources)) {
    const scope = parsePolicyAddress(address);
    if (!scope || typeof r.value !== 'string') continue;
    live.set(addressKey(address), {
      type: 'policy',
      address,
      scope,
      xml: r.value,
      etag: r.etag,
      ...(r.description !== undefined ? { description: r.description } : {}),
    });
  }
  return { resources: live };
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('A tour on the local emulator: plan the sample policies against an older live instance, apply, re-plan.')
    .option('--out-dir <dir>', 'where to write the PR comment', join(tmpdir(), 'apim-policy-demo'))
    .action(async (opts: { outDir: string }) => {
      const root = relative(process.cwd(), projectRoot()) || '.';
      const policies = join(root, 'policies');
      const snapshot = join(root, 'demo', 'live-snapshot');
      const color = process.stdout.isTTY === true;
      const say = (s = '') => process.stdout.write(s + '\n');
      const step = (s: string) => say(color ? `\u001b[1m${s}\u001b[0m` : s);

      step('apim-policy-deploy demo');
      say(`1. Starting a local APIM emulator (HTTPS) whose live state is ${snapshot}:`);
      say('   the sample instance as it was a week ago — two older policies, one missing, one extra,');
      say('   stored the way APIM re-serialises policies (CRLF, tabs, escaped expressions).');
      const emulator = await startEmulator({ seedDir: snapshot });
      try {
        const { adminUrl } = emulator.ready;
        const desired = await loadPolicyTree(policies);
        failOnErrors(desired.diagnostics, `policies tree ${policies}`);
        const source: Plan['source'] = { kind: 'azure', serviceId: `${emulator.ready.armEndpoint}/…/service/${emulator.ready.serviceName}` };
        const planNow = async () => computePlan(desired, { state: await readLive(adminUrl, emulator.caCert) }, { source });

        say();
        step(`2. Plan: ${policies} against the emulator`);
        const plan = await planNow();
        process.stdout.write(renderText(plan, { color }));
        await mkdir(opts.outDir, { recursive: true });
        const commentFile = join(opts.outDir, 'plan-comment.md');
        await writeFile(commentFile, renderMarkdown(plan, { title: 'APIM policy plan — demo', maxLength: 60000 }));
        say(`   The pull-request comment for this plan: ${commentFile}`);

        say();
        step('3. Apply (deletes allowed for the demo)');
        for (const change of plan.changes) {
          if (change.action === 'noop') continue;
          const body =
            change.action === 'delete'
              ? { address: change.address, delete: true }
              : { address: change.address, value: change.desired!.xml, description: change.desired!.description };
          await adminCall(`${adminUrl}edit`, emulator.caCert, body);
          say(`   ${change.action.padEnd(6)} ${change.address}`);
        }

        say();
        step('4. Plan again');
        const after = await planNow();
        process.stdout.write(renderText(after, { color }));
        if (hasChanges(after)) throw new Error('the second plan still has changes: apply did not converge');
        say();
        say('Note what never showed as a change: CRLF, tabs, attribute order and escaped expressions');
        say('in the live copies. Only real changes show.');
      } finally {
        await emulator.close();
      }
    });
}
