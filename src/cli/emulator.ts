import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { startEmulator, type EmulatorService, type ReadyLine } from '../emulator/server.js';
import { loadLiveSeed } from './emulator-seed.js';
import { CliError } from './errors.js';

function number(name: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new CliError(`${name} must be a number from ${min} to ${max}, not "${raw}"`, 2);
    return n;
  };
}

const collect = (raw: string, prev: string[] = []) => [...prev, raw];

/** `--service name[=seedDir]`, repeated: the services of the one subscription, the first the default. */
async function servicesOf(specs: string[], tokens: Record<string, string>): Promise<EmulatorService[]> {
  const out: EmulatorService[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = (eq < 0 ? spec : spec.slice(0, eq)).trim();
    const dir = eq < 0 ? '' : spec.slice(eq + 1).trim();
    if (!/^[a-z][a-z0-9-]{0,49}$/i.test(name)) {
      throw new CliError(`--service "${spec}": the name must be an API Management service name (letters, digits and hyphens, starting with a letter), as in --service apim-a=policies/`, 2);
    }
    if (out.some((s) => s.name.toLowerCase() === name.toLowerCase())) throw new CliError(`--service "${name}" is given twice; give each service once`, 2);
    const loaded = dir ? await loadLiveSeed(dir) : undefined;
    if (loaded) Object.assign(tokens, loaded.tokens);
    out.push({ name, ...(loaded ? { seed: loaded.seed } : {}) });
  }
  return out;
}

/**
 * (Not `--env-file`: Node 20 takes that flag for itself even after the script name.) The ready
 * line as shell variables: the target under the names the CLI falls back to, the client
 * environment, and the variables the seed's `{#TOKEN#}`s were resolved with (so a plan of the same
 * tree, after sourcing the file, finds the values the instance holds; the file is private, 0600).
 */
export function envFileText(ready: ReadyLine, tokens: Record<string, string> = {}): string {
  const vars: Record<string, string> = {
    ...tokens,
    AZURE_SUBSCRIPTION_ID: ready.subscriptionId,
    AZURE_TENANT_ID: ready.tenantId,
    AZURE_CLIENT_ID: ready.clientId,
    APIM_RESOURCE_GROUP: ready.resourceGroup,
    APIM_SERVICE_NAME: ready.serviceName,
    APIM_ARM_ENDPOINT: ready.armEndpoint,
    ...ready.env,
  };
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  return `# apim-policy emulator at ${ready.armEndpoint}: source this file, then run apim-policy plan --policies DIR\n${Object.entries(vars)
    .map(([k, v]) => `export ${k}=${quote(v)}`)
    .join('\n')}\n`;
}

export function registerEmulator(program: Command): void {
  program
    .command('emulator')
    .description(
      'Start a local HTTPS emulator of ARM/APIM, Entra, GitHub OIDC and the GitHub REST API. Prints one JSON ' + 'ready line (endpoints and the environment a client needs) and serves until SIGTERM.',
    )
    .option('--port <n>', 'port on 127.0.0.1 (0 = any free port)', number('--port', 0, 65535), 0)
    .option('--seed <dir>', 'the live state starts as this policies tree describes')
    .option('--latency-ms <n>', 'delay every response', number('--latency-ms', 0, 60000), 0)
    .option('--fault-rate <x>', 'share of ARM requests answered with 429, 500, 503 or a reset', number('--fault-rate', 0, 1), 0)
    .option('--throttle', "apply ARM's token buckets (per principal: reads 250 + 25/s, writes 200 + 10/s, deletes 200 + 10/s; 15× that for the subscription)")
    .option('--service <name=dir>', 'one more APIM service in the subscription, seeded from a policies tree (repeatable; the first is the default; replaces --seed)', collect, [])
    .option('--client <id>', 'one more client ID (principal) the fake Entra issues ARM tokens to (repeatable)', collect, [])
    .option(
      '--write-env-file <file>',
      'also write the target and the environment a client needs as `export NAME=value` lines (a new file, mode 0600): `source` it, then run apim-policy plan --policies DIR',
    )
    .action(async (opts: { port: number; seed?: string; latencyMs: number; faultRate: number; throttle?: boolean; service: string[]; client: string[]; writeEnvFile?: string }) => {
      if (opts.service.length && opts.seed) throw new CliError('--seed and --service exclude each other: seed each service with --service name=dir', 2);
      const tokens: Record<string, string> = {};
      const services = await servicesOf(opts.service, tokens);
      const seeded = opts.seed ? await loadLiveSeed(opts.seed) : undefined;
      if (seeded) Object.assign(tokens, seeded.tokens);
      const emulator = await startEmulator({
        ...(services.length ? { services } : {}),
        ...(opts.client.length ? { clientIds: opts.client } : {}),
        port: opts.port,
        ...(seeded ? { seed: seeded.seed } : {}),
        latencyMs: opts.latencyMs,
        faultRate: opts.faultRate,
        throttle: opts.throttle === true,
      });
      if (opts.writeEnvFile) {
        try {
          writeFileSync(opts.writeEnvFile, envFileText(emulator.ready, tokens), { mode: 0o600, flag: 'wx' });
        } catch (e) {
          await emulator.close();
          throw new CliError(`cannot write --write-env-file ${opts.writeEnvFile}: ${(e as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists; give a new file' : (e as Error).message}`, 1);
        }
      }
      process.stdout.write(JSON.stringify(emulator.ready) + '\n');
      await new Promise<void>((resolve) => {
        const stop = () => {
          void emulator.close().then(resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
