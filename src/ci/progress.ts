/**
 * Progress of the ARM calls in a CI host's log. A full plan of a big instance runs for minutes at
 * the pace ARM allows; a line every 15 seconds says how far it is, without flooding the log (the
 * CLI has its own progress line on a terminal).
 */
import type { ArmSchedulerStats } from '../azure/scheduler.js';

export const PROGRESS_EVERY_MS = 15_000;

/** An `onProgress` for `connect`: calls `log` at most once per `everyMs`, never for the first `everyMs`. */
export function armProgressLog(log: (line: string) => void, everyMs = PROGRESS_EVERY_MS, now: () => number = Date.now): (done: number, total: number) => void {
  let last = now();
  return (done, total) => {
    const t = now();
    if (t - last < everyMs) return;
    last = t;
    log(`ARM calls: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} done`);
  };
}

/** One line on what the run asked of ARM: calls, time, and the 429s and retries it absorbed. */
export function armSummaryLine(stats: ArmSchedulerStats, ms: number): string {
  const extra = [stats.throttled ? `${stats.throttled} throttled (429) and waited for` : '', stats.retries ? `${stats.retries} retried` : '', stats.failed ? `${stats.failed} failed` : ''].filter(
    Boolean,
  );
  return `${stats.calls.toLocaleString('en-US')} ARM call(s) in ${(ms / 1000).toFixed(1)} s${extra.length ? ` (${extra.join(', ')})` : ''}`;
}
