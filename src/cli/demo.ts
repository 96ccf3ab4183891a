import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { renderMarkdown } from '../render/markdown.js';
import { renderText } from '../render/text.js';
import { planAgainstSnapshot } from './plan.js';

/** The checkout root: the CLI runs from dist/cli/ (bundle) or src/cli/ (tests); both are two levels down. */
export function projectRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('A tour on the sample policies: plan them against an older live snapshot and write the PR comment.')
    .option('--out-dir <dir>', 'where to write the PR comment', join(tmpdir(), 'apim-policy-demo'))
    .action(async (opts: { outDir: string }) => {
      const root = relative(process.cwd(), projectRoot()) || '.';
      const policies = join(root, 'policies');
      const snapshot = join(root, 'demo', 'live-snapshot');
      const color = process.stdout.isTTY === true;
      const say = (s: string) => process.stdout.write(s + '\n');
      say('apim-policy-deploy demo');
      say('=======================');
      say(`Desired state: ${policies} (the sample policies tree)`);
      say(`Live state:    ${snapshot} (an APIM instance as it was a week ago: older versions of two`);
      say('               policies, one missing, one extra — stored the way APIM re-serialises them)');
      say('');
      const plan = await planAgainstSnapshot(policies, snapshot);
      process.stdout.write(renderText(plan, { color }));
      await mkdir(opts.outDir, { recursive: true });
      const commentFile = join(opts.outDir, 'plan-comment.md');
      await writeFile(commentFile, renderMarkdown(plan, { title: 'APIM policy plan — demo', maxLength: 60000 }));
      say('');
      say(`The pull-request comment for this plan is in ${commentFile}`);
      say('Note what is not in the plan: CRLF, tabs, attribute order and escaped expressions in the');
      say('live copies. Only real changes show.');
    });
}
