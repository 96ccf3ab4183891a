/**
 * Fail fast when nothing listens (issue 15): the bundled CLI logs in against the emulator (its
 * Entra and GitHub OIDC fakes) while --arm-endpoint names a loopback port where nothing listens.
 * The first ARM call's ECONNREFUSED is said at once, naming the endpoint, not retried eight times.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startSeededEmulator } from '../../src/cli/emulator-seed.js';
import { createArmScheduler } from '../../src/azure/scheduler.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, targetFlags } from '../helpers/emulator.js';
import { ROOT, runCliAsync } from '../helpers/run.js';

/** A loopback port nothing listens on: listen on 0, read the port, close. */
function deadPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startSeededEmulator({ seedDir: join(ROOT, 'policies') });
});
afterEach(async () => {
  await emu?.close();
});

test('plan against an endpoint where nothing listens: exit 1 at once, naming the endpoint and what to check', async () => {
  const endpoint = `https://127.0.0.1:${await deadPort()}`;
  const flags = targetFlags(emu);
  flags[flags.indexOf('--arm-endpoint') + 1] = endpoint;
  const r = await runCliAsync(['plan', '--policies', 'policies', ...flags], { env: { ...emu.ready.env, GITHUB_ACTIONS: '' } });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`nothing answers at ${endpoint} (ECONNREFUSED`);
  expect(r.stderr).toContain('is the emulator running? is --arm-endpoint right?');
  // Not the retry budget's message: one attempt, no "after 8 attempts".
  expect(r.stderr).not.toMatch(/attempts/);
  // The login went through the emulator (so the failure is ARM's, not Entra's).
  const { tokenRequests } = (await admin(emu, 'GET', 'requests')) as { tokenRequests: unknown[] };
  expect(tokenRequests.length).toBeGreaterThan(0);
});

test('the Entra token call where nothing listens (AZURE_AUTHORITY_HOST at a dead port): exit 1 naming that host and the hint', async () => {
  const host = `https://127.0.0.1:${await deadPort()}`;
  const r = await runCliAsync(['plan', '--policies', 'policies', ...targetFlags(emu)], { env: { ...emu.ready.env, GITHUB_ACTIONS: '', AZURE_AUTHORITY_HOST: host } });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`nothing answers at ${host} for the Entra ID token`);
  expect(r.stderr).toContain('is the emulator running? is AZURE_AUTHORITY_HOST right?');
});

test('scheduler: ECONNREFUSED before ARM answered is one attempt; once a response was seen it is retried as a reset', async () => {
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const s = createArmScheduler({ sleep: async () => undefined, maxAttempts: 8 });
  let attempts = 0;
  await expect(
    s.run(
      'read',
      async () => {
        attempts++;
        throw refused();
      },
      'GET x',
    ),
  ).rejects.toMatchObject({ name: 'ArmUnreachableError', code: 'ECONNREFUSED' });
  expect(attempts).toBe(1);
  expect(s.stats().retries).toBe(0);

  // An answer came through the pipeline policy: from now on a refused connection is a transient reset.
  await s.pipelinePolicy.sendRequest({ method: 'GET', url: 'https://arm.example/x' } as never, async (req) => ({ request: req, status: 200, headers: { get: () => undefined } }) as never);
  attempts = 0;
  const result = await s.run(
    'read',
    async () => {
      if (++attempts < 3) throw refused();
      return 'ok';
    },
    'GET y',
  );
  expect(result).toBe('ok');
  expect(attempts).toBe(3);
});
