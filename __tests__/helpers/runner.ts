import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT, collect } from './run.js';

export const ACTION = resolve(ROOT, 'dist/index.js');

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** Parses the GITHUB_OUTPUT file format `name<<DELIM\nvalue\nDELIM`. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^<\n]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

/** The runner's side of a run: the environment it sets and the files it reads back afterwards. */
function runnerContract(inputs: Record<string, string>, env: NodeJS.ProcessEnv) {
  const work = mkdtempSync(join(tmpdir(), 'apim-policy-runner-'));
  const outputFile = join(work, 'output');
  const summaryFile = join(work, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const inputEnv = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase().replace(/ /g, '_')}`, v]));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INPUT_') && !k.startsWith('GITHUB_')));
  return {
    env: { ...clean, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, RUNNER_TEMP: work, ...inputEnv, ...env },
    result: (code: number | null, stdout: string, stderr: string): ActionRun => ({
      code: code ?? -1,
      stdout,
      stderr,
      outputs: parseOutputs(readFileSync(outputFile, 'utf8')),
      summary: readFileSync(summaryFile, 'utf8'),
    }),
  };
}

/**
 * Runs the bundled action the way a runner does: `node dist/index.js` with INPUT_* variables,
 * and reads back the files the runner would read (outputs and job summary).
 */
export function runAction(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}, cwd = ROOT): ActionRun {
  const contract = runnerContract(inputs, env);
  const r = spawnSync(process.execPath, [ACTION], { cwd, env: contract.env, encoding: 'utf8', timeout: 60000 });
  return contract.result(r.status, r.stdout, r.stderr);
}

/** The same without blocking the event loop, for an emulator running in the test process. */
export function runActionAsync(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}, cwd = ROOT): Promise<ActionRun> {
  const contract = runnerContract(inputs, env);
  const child = spawn(process.execPath, [ACTION], { cwd, env: contract.env, stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child).then((r) => contract.result(r.code, r.stdout, r.stderr));
}
