import type { Command } from 'commander';
import { startSeededEmulator } from './emulator-seed.js';
import { CliError } from './errors.js';

function number(name: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new CliError(`${name} must be a number from ${min} to ${max}, not "${raw}"`, 2);
    return n;
  };
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
    .option('--throttle', "apply ARM's token buckets (reads 250 + 25/s, writes 200 + 10/s)")
    .action(async (opts: { port: number; seed?: string; latencyMs: number; faultRate: number; throttle?: boolean }) => {
      const emulator = await startSeededEmulator({
        port: opts.port,
        ...(opts.seed ? { seedDir: opts.seed } : {}),
        latencyMs: opts.latencyMs,
        faultRate: opts.faultRate,
        throttle: opts.throttle === true,
      });
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
