/**
 * Cold start of the bundled action: from spawning `node <dist>/index.js` (a plan run on a pull
 * request, over GitHub OIDC, against the emulator) to its first ARM request arriving at the
 * emulator. The emulator runs in this process with a first route that notes the time of the
 * first ARM request (it runs after the emulator's latency, which is subtracted).
 *
 * Other programs measured the same way, their runs taking turns with the action's so that the
 * machine's drift hits all alike: the bench adds the floor (scripts/bench/cold-floor.ts), the
 * least any action on these SDKs does before its first ARM request.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityRoutes } from '../../src/emulator/arm-identity.js';
import { policyRoutes } from '../../src/emulator/arm-policies.js';
import { startSeededEmulator } from '../../src/cli/emulator-seed.js';
import { DEFAULT_TARGET } from '../../src/emulator/server.js';
import type { RouteHandler } from '../../src/emulator/types.js';
import { writeTree } from './trees.js';

export interface ColdStart {
  runs: number;
  /** Median ms from spawn to the first ARM request (OIDC token and Entra exchange included). */
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Median ms of `node -e 0` (spawn to exit), for reference. */
  bareNodeMs: number;
  exitCodes: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `BENCH_COLD_NODE_ARGS` adds node flags to the action's runs, to look inside one, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`.
 */
export async function coldStart<K extends string>(programs: Record<K, string>, options: { latencyMs: number; runs?: number }): Promise<Record<K, ColdStart>> {
  const runs = options.runs ?? 15;
  const nodeArgs = (process.env.BENCH_COLD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const work = mkdtempSync(join(tmpdir(), 'apim-bench-cold-'));
  const policies = join(work, 'policies');
  writeTree(policies, 12, 'author');
  // As a repository has it: the instance's identity and the role its policies need (the emulator seeds it too).
  writeFileSync(
    join(policies, 'identity.yaml'),
    [
      'identity:',
      '  systemAssigned: true',
      'roleAssignments:',
      '  - identity: system',
      '    role: Azure Service Bus Data Sender',
      `    scope: /subscriptions/${DEFAULT_TARGET.subscriptionId}/resourceGroups/rg-messaging/providers/Microsoft.ServiceBus/namespaces/sb-orders`,
      '',
    ].join('\n'),
  );
  let firstArmAt: number | undefined;
  const recorder: RouteHandler = () => {
    firstArmAt ??= performance.now();
    return undefined;
  };
  const emu = await startSeededEmulator({ seedDir: policies, latencyMs: options.latencyMs, throttle: true, routes: [recorder, identityRoutes, policyRoutes] });
  const names = Object.keys(programs) as K[];
  const times = new Map<K, number[]>(names.map((k) => [k, []]));
  const exitCodes = new Map<K, number[]>(names.map((k) => [k, []]));
  try {
    for (let r = 0; r < runs * names.length; r++) {
      const name = names[r % names.length]!;
      const runDir = mkdtempSync(join(work, 'run-'));
      writeFileSync(join(runDir, 'output'), '');
      writeFileSync(join(runDir, 'summary'), '');
      const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INPUT_') && !k.startsWith('GITHUB_')));
      const env = {
        ...clean,
        ...emu.ready.env,
        GITHUB_ACTIONS: 'true',
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_REF: 'refs/pull/1/merge',
        GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
        GITHUB_REPOSITORY: 'octo-org/octo-repo',
        GITHUB_OUTPUT: join(runDir, 'output'),
        GITHUB_STEP_SUMMARY: join(runDir, 'summary'),
        RUNNER_TEMP: runDir,
        INPUT_MODE: 'plan',
        'INPUT_POLICIES-PATH': policies,
        'INPUT_ARM-ENDPOINT': emu.ready.armEndpoint,
        'INPUT_SUBSCRIPTION-ID': emu.ready.subscriptionId,
        'INPUT_RESOURCE-GROUP': emu.ready.resourceGroup,
        'INPUT_SERVICE-NAME': emu.ready.serviceName,
        'INPUT_TENANT-ID': emu.ready.tenantId,
        'INPUT_CLIENT-ID': emu.ready.clientId,
        INPUT_AUTH: 'oidc',
        INPUT_AUDIENCE: 'api://AzureADTokenExchange',
      };
      firstArmAt = undefined;
      const t0 = performance.now();
      const child = spawn(process.execPath, [...nodeArgs, programs[name]], { cwd: runDir, env, stdio: 'ignore' });
      const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? -1)));
      exitCodes.get(name)!.push(code);
      if (firstArmAt !== undefined) times.get(name)!.push(firstArmAt - options.latencyMs - t0);
      // Let the buckets refill a little between runs (a dozen reads each).
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await emu.close();
    rmSync(work, { recursive: true, force: true });
  }
  const bare: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    bare.push(performance.now() - t);
  }
  const result = {} as Record<K, ColdStart>;
  for (const name of names) {
    const t = times.get(name)!;
    result[name] = {
      runs: t.length,
      medianMs: t.length ? Math.round(median(t)) : NaN,
      minMs: t.length ? Math.round(Math.min(...t)) : NaN,
      maxMs: t.length ? Math.round(Math.max(...t)) : NaN,
      bareNodeMs: Math.round(median(bare)),
      exitCodes: exitCodes.get(name)!,
    };
  }
  return result;
}
