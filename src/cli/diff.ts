import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadPolicyTree } from '../desired/load-tree.js';
import { FILE_LIMITS, FileRefusedError, readLocalFile } from '../desired/safe-file.js';
import { computePlan, hasChanges } from '../plan/compute.js';
import { PolicySyntaxError, canonicalize, diffCanonical, parsePolicyDocument } from '../policy-xml/index.js';
import { colorWanted } from '../render/color.js';
import { renderText } from '../render/text.js';
import { CliError, failOnErrors } from './errors.js';

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    throw new CliError(`${path}: no such file or folder`, 2);
  }
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('Semantic diff of two policy files or two trees: formatting is never a difference. Exit 0 same, 1 different, 2 error.')
    .argument('<a>', 'policy file or tree (before)')
    .argument('<b>', 'policy file or tree (after)')
    .action(async (a: string, b: string) => {
      const [dirA, dirB] = [await isDirectory(a), await isDirectory(b)];
      if (dirA !== dirB) throw new CliError('diff compares two files or two folders, not one of each', 2);
      if (dirA) {
        const [before, after] = [await loadPolicyTree(a), await loadPolicyTree(b)];
        failOnErrors(before.diagnostics, a, 2);
        failOnErrors(after.diagnostics, b, 2);
        const plan = computePlan(after, before, { source: { kind: 'snapshot', path: a } });
        process.stdout.write(renderText(plan, { color: colorWanted(process.stdout), trees: { before: a, after: b } }));
        process.exitCode = hasChanges(plan) ? 1 : 0;
        return;
      }
      // Two files named on the command line: regular files under the size limit (not a FIFO, not /dev/zero).
      const read = (file: string) => readLocalFile(file, { maxBytes: FILE_LIMITS.policy, what: 'policy files (APIM accepts policy documents up to 256 KiB)' })!.toString('utf8');
      try {
        const [ca, cb] = [canonicalize(parsePolicyDocument(read(a), { file: a })), canonicalize(parsePolicyDocument(read(b), { file: b }))];
        if (ca === cb) return;
        process.stdout.write(diffCanonical(ca, cb, a, b).patch);
        process.exitCode = 1;
      } catch (e) {
        if (e instanceof PolicySyntaxError || e instanceof FileRefusedError) throw new CliError(e.message, 2);
        throw e;
      }
    });
}
