import type { Command } from 'commander';
import type { TargetSettings } from '../azure/target.js';
import { readSnapshot } from '../ci/snapshot-file.js';
import { restoreSnapshot, type SnapshotRestoreReport } from '../plan/snapshot.js';
import { CliError } from './errors.js';
import { addTargetOptions, connectWithProgress, type CliEnvironment } from './target.js';

interface RestoreOptions extends TargetSettings {
  snapshot: string;
  force?: boolean;
}

function line(r: SnapshotRestoreReport): string {
  const word = r.outcome === 'restored' ? 'restored ' : r.outcome === 'unchanged' ? 'unchanged' : 'FAILED   ';
  return `  ${word} ${r.address}: ${r.message}`;
}

/**
 * `restore`: puts back what an apply changed, from its snapshot — after a run that was killed
 * (SIGKILL, a lost runner) and could not restore by itself, or to undo one that succeeded. A
 * resource goes back only while it is still exactly what the apply wrote (the ETag ARM returned for
 * that write); one changed since is reported and kept, unless --force.
 */
export function registerRestore(program: Command, env: CliEnvironment): void {
  const command = program
    .command('restore')
    .description("Put back every resource of an apply's snapshot that is still as that apply left it; changes made since are reported, not overwritten (unless --force).")
    .requiredOption('--snapshot <file>', 'the snapshot file apply wrote (its path is printed before the first write)')
    .option('--force', 'also put back resources changed since the apply (guarded by the ETag read now)');
  addTargetOptions(command).action(async (opts: RestoreOptions) => {
    // The snapshot is read and checked before connecting: nothing is written when it is not one.
    const snapshot = await readSnapshot(opts.snapshot);
    const { conn, progress } = await connectWithProgress(opts, 'ARM calls', env);
    try {
      const same = snapshot.fingerprint ? snapshot.fingerprint === conn.source.fingerprint : snapshot.serviceId.toLowerCase() === conn.source.serviceId.toLowerCase();
      if (!same) {
        throw new CliError(
          `${opts.snapshot} is a snapshot of ${snapshot.serviceId}${snapshot.armEndpoint ? ` at ${snapshot.armEndpoint}` : ''}, not of the instance the flags name (${conn.source.serviceId} at ${conn.source.armEndpoint}); nothing was written`,
          1,
        );
      }
      process.stdout.write(`Restoring ${conn.source.serviceId} from ${opts.snapshot} (taken ${snapshot.createdAt})\n`);
      const reports = await restoreSnapshot(snapshot, conn.store, conn.identities, {
        force: opts.force === true,
        onReport: (r) => {
          progress.finish();
          process.stdout.write(line(r) + '\n');
        },
      });
      progress.finish();
      const n = (o: SnapshotRestoreReport['outcome']) => reports.filter((r) => r.outcome === o).length;
      const left = n('not-restored');
      if (left) {
        process.stdout.write(`Restore INCOMPLETE: ${n('restored')} put back, ${n('unchanged')} already as they were, ${left} NOT restored (listed above; kept as they are now).\n`);
        process.exitCode = 1;
      } else process.stdout.write(`Restore complete: ${n('restored')} put back, ${n('unchanged')} already as they were.\n`);
    } finally {
      progress.finish();
    }
  });
}
