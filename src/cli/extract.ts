import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readLiveIdentity } from '../azure/identity.js';
import type { TargetSettings } from '../azure/target.js';
import { entityFile, isEmptyOrMissing, writePolicyTree } from '../desired/write-tree.js';
import { MANIFEST_FILE } from '../desired/identity-manifest.js';
import { renderManifest } from '../desired/identity-writer.js';
import { readLiveEntities, readLivePolicies } from '../azure/reader.js';
import { writeInsideTree } from '../desired/write-tree.js';
import { formatDiagnostic } from '../render/text.js';
import { tokenText } from '../model/tokens.js';
import { CliError } from './errors.js';
import { addTargetOptions, connectWithProgress, type CliEnvironment } from './target.js';

interface ExtractOptions extends TargetSettings {
  out: string;
  force?: boolean;
}

export function registerExtract(program: Command, env: CliEnvironment): void {
  const command = program
    .command('extract')
    .description(
      'Write the live instance as a policies tree (same layout, formatted; named values and backends as APIOps information files, secrets as {#TOKEN#}): plan --policies DIR right after shows no change.',
    )
    .requiredOption('--out <dir>', 'folder to write the tree into (must be empty unless --force)')
    .option('--force', 'write into a folder that already has files (files of the same path are replaced)');
  addTargetOptions(command).action(async (opts: ExtractOptions) => {
    if (!opts.force && !(await isEmptyOrMissing(opts.out))) {
      throw new CliError(`${opts.out} is not empty; extract into an empty folder, or pass --force to replace files in it`, 1);
    }
    const { conn, progress } = await connectWithProgress(opts, 'read', env);
    const [{ state, problems, entities }, identity] = await Promise.all([
      readLivePolicies(conn.session).then(async (read) => ({ ...read, entities: (await readLiveEntities(conn.session, read.workspaces)).entities })),
      readLiveIdentity(conn.identities, conn.session, { file: MANIFEST_FILE, userAssigned: [], roleAssignments: [] }),
    ]).finally(() => progress.finish());
    // Ids live that cannot be a path were skipped while reading: say which.
    for (const p of problems) process.stderr.write(`${formatDiagnostic(p)}\n`);
    const files = await writePolicyTree(opts.out, state.resources.values(), entities.resources.values());
    await writeInsideTree(opts.out, join(opts.out, MANIFEST_FILE), renderManifest(identity));
    files.push(MANIFEST_FILE);
    const count = (kind: string, one: string, many: string) => {
      const n = [...entities.resources.values()].filter((e) => e.kind === kind).length;
      return `${n} ${n === 1 ? one : many}`;
    };
    const what = `${state.resources.size} polic${state.resources.size === 1 ? 'y' : 'ies'}, ${count('namedValue', 'named value', 'named values')} and ${count('backend', 'backend', 'backends')}`;
    process.stdout.write(`Extracted ${what} from ${conn.source.serviceId} into ${resolve(opts.out)}:\n`);
    for (const f of files) process.stdout.write(`  ${f}\n`);
    // A secret's value is never read: the file has a token, and plan/apply take it from the environment.
    const tokens = [...entities.resources.values()].map(entityFile).filter((f): f is { rel: string; text: string; token: string } => f.token !== undefined);
    if (tokens.length) {
      process.stdout.write(`Secret named values are written with a ${tokenText('NAME')} in place of their value; plan and apply need these environment variables (NAME):\n`);
      for (const f of tokens) process.stdout.write(`  ${f.token} (${f.rel})\n`);
      // Ids that differ only in what a variable name cannot hold share one token: they then get one value.
      const shared = [...new Set(tokens.map((f) => f.token))].filter((t) => tokens.filter((f) => f.token === t).length > 1);
      for (const t of shared) {
        process.stderr.write(
          `warning: ${tokens
            .filter((f) => f.token === t)
            .map((f) => f.rel)
            .join(' and ')} both use ${tokenText(t)}; give each its own token in its file if their values differ\n`,
        );
      }
    }
  });
}
