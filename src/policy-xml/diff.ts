import { createTwoFilesPatch } from 'diff';

export interface TextDiff {
  /** Unified diff with three lines of context, without the `Index:`/`===` preamble. */
  patch: string;
  added: number;
  removed: number;
}

/** Unified diff of two canonical forms: what a reviewer reads in the plan. */
export function diffCanonical(before: string, after: string, beforeLabel: string, afterLabel: string): TextDiff {
  const raw = createTwoFilesPatch(beforeLabel, afterLabel, before, after, undefined, undefined, { context: 3 });
  const lines = raw.split('\n');
  const start = lines.findIndex((l) => l.startsWith('--- '));
  const body = lines.slice(start >= 0 ? start : 0);
  let added = 0;
  let removed = 0;
  // Skip only the two header lines: a changed line whose own text starts with "-- " or "++ "
  // (SQL comments in a set-body, say) also reads "--- " or "+++ " in the hunk.
  for (const l of body.slice(start >= 0 ? 2 : 0)) {
    if (l.startsWith('+')) added++;
    else if (l.startsWith('-')) removed++;
  }
  return { patch: body.join('\n').replace(/\n+$/, '\n'), added, removed };
}
