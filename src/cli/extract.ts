import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readLiveIdentity } from '../azure/identity.js';
import type { TargetSettings } from '../azure/target.js';
import { isEmptyOrMissing, writePolicyTree } from '../desired/write-tree.js';
import { MANIFEST_FILE } from '../desired/identity-manifest.js';
import { renderManifest } from '../desired/identity-writer.js';
import { readLivePolicies } from '../azure/reader.js';
import { writeInsideTree } from '../desired/write-tree.js';
import { formatDiagnostic } from '../render/text.js';
import { CliError } from './errors.js';
import { addTargetOptions, connectWithProgress, type CliEnvironment } from './target.js';

interface ExtractOptions extends TargetSettings {
  out: string;
  force?: boolean;
}

export function registerExtract(program: Command, env: CliEnvironment): void {
  const command = program
    .command('extract')
    .description('Write the live instance as a policies tree (same layout, formatted): plan --policies DIR right after shows no change.')
    .requiredOption('--out <dir>', 'folder to write the tree into (must be empty unless --force)')
    .option('--force', 'write into a folder that already has files (files of the same path are replaced)');
  addTargetOptions(command).action(async (opts: ExtractOptions) => {
    if (!opts.force && !(await isEmptyOrMissing(opts.out))) {
      throw new CliError(`${opts.out} is not empty; extract into an empty folder, or pass --force to replace files in it`, 1);
    }
    const { conn, progress } = await connectWithProgress(opts, 'read', env);
    const [{ state, problems }, identity] = await Promise.all([
      readLivePolicies(conn.session),
      readLiveIdentity(conn.identities, conn.session, { file: MANIFEST_FILE, userAssigned: [], roleAssignments: [] }),
    ]).finally(() => progress.finish());
    // Ids live that cannot be a path were skipped while reading: say which.
    for (const p of problems) process.stderr.write(`${formatDiagnostic(p)}\n`);
    const files = await writePolicyTree(opts.out, state.resources.values());
    await writeInsideTree(opts.out, join(opts.out, MANIFEST_FILE), renderManifest(identity));
    files.push(MANIFEST_FILE);
    process.stdout.write(`Extracted ${state.resources.size} polic${state.resources.size === 1 ? 'y' : 'ies'} from ${conn.source.serviceId} into ${resolve(opts.out)}:\n`);
    for (const f of files) process.stdout.write(`  ${f}\n`);
  });
}
