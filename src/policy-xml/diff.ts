import { createTwoFilesPatch } from 'diff';

export interface TextDiff {
  /** Unified diff with three lines of context, without the `Index:`/`===` preamble. */
  patch: string;
  added: number;
  removed: number;
  /**
   * Set when the two sides differ in more than `MAX_EDIT_LINES` lines: the patch then says
   * "content replaced" with these canonical line counts instead of a line-by-line diff.
   */
  replaced?: { before: number; after: number };
}

/**
 * Most added + removed lines a diff looks for. jsdiff's Myers search costs about the square of
 * the edit length, so a policy rewritten in full (20,000 lines against 20,000 others) would take
 * minutes; 2,000 costs a fraction of a second and is more than anyone reviews line by line.
 * An edit-length cap, not a timeout: the same two documents give the same plan on any machine
 * and under any load, which a reviewed plan (and a plan hashed and checked again) needs.
 */
export const MAX_EDIT_LINES = 2000;

/** Lines of a canonical form: its `\n`-terminated lines, and a last one without a newline. */
export function lineCount(text: string): number {
  if (text === '') return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

/** Unified diff of two canonical forms: what a reviewer reads in the plan. */
export function diffCanonical(before: string, after: string, beforeLabel: string, afterLabel: string): TextDiff {
  // A new or removed document is every line added or removed: jsdiff finds that in linear time,
  // so it is never capped (a new 20,000-line policy is shown in full, not as "replaced").
  const raw =
    before === '' || after === ''
      ? createTwoFilesPatch(beforeLabel, afterLabel, before, after, undefined, undefined, { context: 3 })
      : createTwoFilesPatch(beforeLabel, afterLabel, before, after, undefined, undefined, { context: 3, maxEditLength: MAX_EDIT_LINES });
  if (raw === undefined) return replacedDiff(before, after, beforeLabel, afterLabel);
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

/** The sentence that stands for a diff too large to compute, e.g. `content replaced: 20000 lines → 19998 lines`. */
export function replacedLine(replaced: { before: number; after: number }): string {
  return `content replaced: ${replaced.before} lines → ${replaced.after} lines (more than ${MAX_EDIT_LINES} lines differ; not diffed line by line)`;
}

function replacedDiff(before: string, after: string, beforeLabel: string, afterLabel: string): TextDiff {
  const replaced = { before: lineCount(before), after: lineCount(after) };
  // Every line of one side gives way to every line of the other: the counts say so.
  return { patch: `--- ${beforeLabel}\n+++ ${afterLabel}\n${replacedLine(replaced)}\n`, added: replaced.after, removed: replaced.before, replaced };
}
