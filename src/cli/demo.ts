import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { ReadyLine } from '../emulator/server.js';
import { readPlanFile } from '../ci/plan-file.js';
import { renderMarkdown } from '../render/markdown.js';
import { startSeededEmulator } from './emulator-seed.js';
import { colorWanted } from '../render/color.js';

/** The checkout root: the CLI runs from dist/cli/ (bundle) or src/cli/ (tests); both are two levels down. */
export function projectRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

/** The target flags for the emulator, as a user would pass them. */
function targetFlags(ready: ReadyLine): string[] {
  return [
    '--arm-endpoint',
    ready.armEndpoint,
    '--subscription-id',
    ready.subscriptionId,
    '--resource-group',
    ready.resourceGroup,
    '--service-name',
    ready.serviceName,
    '--tenant-id',
    ready.tenantId,
    '--client-id',
    ready.clientId,
  ];
}

/**
 * Runs this CLI in a child process with the emulator's environment, exactly as a user or a CI job
 * would (GitHub OIDC → Entra token → ARM over HTTPS with the real SDKs); its output goes to ours.
 */
function runCli(args: string[], ready: ReadyLine): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [self, ...args, ...targetFlags(ready)], {
      // The secret named value orders-api-key is {#ORDERS_API_KEY#} in the tree: in a workflow it comes
      // from secrets.*; the demo supplies one (a rotated key: the plan shows "secret value changed").
      env: { ...process.env, ORDERS_API_KEY: process.env.ORDERS_API_KEY ?? 'demo-orders-key-rotated', ...ready.env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) => resolveRun(code ?? 1));
  });
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('A tour on the local emulator: plan the sample policies against an older live instance, apply the saved plan, re-plan.')
    .option('--out-dir <dir>', 'where to write the plan file, the PR comment and the snapshot', join(tmpdir(), 'apim-policy-demo'))
    .action(async (opts: { outDir: string }) => {
      const root = relative(process.cwd(), projectRoot()) || '.';
      const policies = join(root, 'policies');
      const snapshot = join(root, 'demo', 'live-snapshot');
      const color = colorWanted(process.stdout);
      const say = (s = '') => process.stdout.write(s + '\n');
      const step = (s: string) => say(color ? `\u001b[1m${s}\u001b[0m` : s);
      const shell = (args: string[]) => say(`   $ apim-policy ${args.join(' ')} <target flags>`);
      await mkdir(opts.outDir, { recursive: true });
      const planFile = join(opts.outDir, 'plan.json');
      // A new snapshot per run: apply never overwrites one (the out dir is kept between demos).
      const snapshotFile = join(opts.outDir, `snapshot-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);

      step('apim-policy-deploy demo');
      say(`1. Starting a local APIM emulator (HTTPS) whose live state is ${snapshot}:`);
      say('   the sample instance as it was a week ago — three older policies, one missing, one extra,');
      say('   stored the way APIM re-serialises policies (CRLF, tabs, escaped expressions). Its APIs and');
      say('   products exist already (the logic-callback API has no policy yet: this tool deploys policies,');
      say('   not APIs, and a policy for an API the instance lacks is a plan error). Its managed');
      say('   identities are off: policies/identity.yaml enables the system identity, attaches a');
      say('   user-assigned one, and grants each the data-plane role its policies and named values need.');
      say('   Its secret named value orders-api-key holds the key before a rotation (the tree says');
      say('   {#ORDERS_API_KEY#}, and the demo sets ORDERS_API_KEY as a workflow would from secrets.*); the');
      say('   Key Vault-backed logic-callback-sig and the backend orders-fulfilment do not exist yet.');
      const emulator = await startSeededEmulator({ seedDir: snapshot });
      try {
        const { ready } = emulator;
        say(`   ARM at ${ready.armEndpoint}; the CLI logs in as a GitHub workflow would: a GitHub OIDC`);
        say('   token, exchanged at Entra ID for an ARM token. The target flags name the emulator:');
        say(`   ${targetFlags(ready).join(' ')}`);
        const must = async (args: string[], allowed: number[] = [0]) => {
          shell(args);
          const code = await runCli(args, ready);
          if (!allowed.includes(code)) throw new Error(`apim-policy ${args[0]} exited with ${code}`);
          return code;
        };

        say();
        step(`2. Plan: ${policies} against the emulator, saved for review`);
        await must(['plan', '--policies', policies, '--out', planFile, '--detailed-exitcode'], [2]);
        const commentFile = join(opts.outDir, 'plan-comment.md');
        await writeFile(commentFile, renderMarkdown(await readPlanFile(planFile), { title: 'APIM policy plan — demo', maxLength: 60000 }));
        say(`   The pull-request comment for this plan: ${commentFile}`);

        say();
        step('3. Apply exactly the reviewed plan: identity → role assignments → named values → backends → policies (deletes allowed for the demo; each write sends If-Match)');
        await must(['apply', '--plan', planFile, '--allow-deletes', '--snapshot-file', snapshotFile]);

        say();
        step('4. Plan again');
        await must(['plan', '--policies', policies, '--detailed-exitcode'], [0]);
        say();
        say('Note what never showed as a change: CRLF, tabs, attribute order and escaped expressions');
        say('in the live copies. Only real changes show. The system identity\'s principal was "known');
        say('after apply": its role assignment got its deterministic name once the identity existed.');
        say('The rotated key showed as "secret value changed": neither value is in the output, the plan');
        say('file or the comment (the plan holds a keyed hash; apply reads ORDERS_API_KEY again).');
      } finally {
        await emulator.close();
      }
    });
}
