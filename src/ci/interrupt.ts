/**
 * SIGINT / SIGTERM during an apply (Ctrl-C; a cancelled workflow run, which sends SIGINT, then
 * SIGTERM, then SIGKILL): the process does not die half-way through the writes. The first signal
 * interrupts the apply (no new write starts; what this run wrote is restored, see plan/apply.ts);
 * a later one says that the restore is running and where the snapshot is, instead of killing it.
 * The handlers are in place only while the apply runs.
 */
import { constants } from 'node:os';

export interface Interruptible {
  /** Prints one line where the user sees it. */
  say: (line: string) => void;
  /** The snapshot file, once it is written. */
  snapshotFile: () => string | undefined;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export async function whileInterruptible<T>(io: Interruptible, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    const file = io.snapshotFile();
    if (!controller.signal.aborted) {
      io.say(`${name}: stopping the apply. No new write starts; writes already sent are let finish, then what this run wrote is restored${file ? ` (snapshot: ${file})` : ''}.`);
      controller.abort(name);
      return;
    }
    io.say(
      `${name} again: still restoring what this run wrote; wait for it to finish.` +
        (file ? ` If the process is killed, \`apim-policy restore --snapshot ${file}\` with the same target flags puts back what is left.` : ''),
    );
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}

/** The exit code of a process ended by `signal`, by the shell's convention (130 for SIGINT, 143 for SIGTERM). */
export function signalExitCode(signal: string): number {
  const n = (constants.signals as Record<string, number | undefined>)[signal];
  return n ? 128 + n : 1;
}
