import type { Change, Diagnostic, Plan } from '../model/index.js';
import { DEFAULT_MAX_DELETES } from '../model/apply.js';
import { ACTION_SYMBOL, ACTION_VERB, IMPACT_INLINE, changeLabel, fragmentName, impactHead, destructiveChanges, pendingChanges, plural, policyDeletes, scopedNote, summaryLine } from './labels.js';

export interface TextOptions {
  /** ANSI colour, for a terminal. */
  color?: boolean;
  /** Two trees compared (`diff A B`), not a tree against live APIM: the wording says so, and there is no apply to speak of. */
  trees?: { before: string; after: string };
}

const ANSI = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1, dim: 2 } as const;

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message} [${d.rule}]`;
}

/** "`correlation` is included by 14 policies: a, b, … and 4 more": the first IMPACT_INLINE addresses. */
export function impactLine(impact: readonly string[], name: string, resourceType: Change['resourceType'] = 'fragment'): string {
  const shown = impact.slice(0, IMPACT_INLINE).join(', ');
  const more = impact.length > IMPACT_INLINE ? ` and ${impact.length - IMPACT_INLINE} more` : '';
  return `\`${name}\` ${impactHead(impact, resourceType)}${impact.length ? `: ${shown}${more}` : ''}`;
}

/** The plan as a person reads it in a terminal: one block per change, then the totals. */
export function renderText(plan: Plan, options: TextOptions = {}): string {
  const paint = (code: keyof typeof ANSI, s: string) => (options.color ? `\u001b[${ANSI[code]}m${s}\u001b[0m` : s);
  const colorOf = { create: 'green', update: 'yellow', delete: 'red', noop: 'dim' } as const;
  const out: string[] = [];
  const changes = pendingChanges(plan);
  for (const p of plan.problems) out.push(paint(p.severity === 'error' ? 'red' : 'yellow', formatDiagnostic(p)));
  if (plan.problems.length) out.push('');
  const scoped = scopedNote(plan);
  const errors = plan.problems.some((p) => p.severity === 'error');
  if (changes.length === 0 && !errors) {
    const same = options.trees
      ? `No differences: the two trees ${options.trees.before} and ${options.trees.after} hold the same ${plural(plan.summary.unchanged, 'resource')}.`
      : `No changes. Live APIM matches the policies tree (${plural(plan.summary.unchanged, 'resource')}).`;
    out.push(paint('green', same));
    if (scoped) out.push(paint('dim', scoped));
    return out.join('\n') + '\n';
  }
  for (const c of changes) {
    out.push(paint(colorOf[c.action], paint('bold', `${ACTION_SYMBOL[c.action]} ${changeLabel(c)}`)) + paint('dim', ` (${ACTION_VERB[c.action]}${c.file ? `, ${c.file}` : ''})`));
    if (c.impact) out.push('    ' + paint('cyan', impactLine(c.impact, fragmentName(c), c.resourceType)));
    for (const line of (c.diff ?? '').split('\n').filter((l) => l && !l.startsWith('--- ') && !l.startsWith('+++ '))) {
      const color = line.startsWith('+') ? 'green' : line.startsWith('-') ? 'red' : line.startsWith('@@') ? 'cyan' : undefined;
      out.push('    ' + (color ? paint(color, line) : line));
    }
    out.push('');
  }
  if (options.trees) {
    const { create, update, delete: del, unchanged } = plan.summary;
    const { before, after } = options.trees;
    out.push(paint('bold', `The two trees differ: ${create} only in ${after}, ${update} changed, ${del} only in ${before}, ${unchanged} the same.`));
    return out.join('\n') + '\n';
  }
  out.push(paint('bold', `Plan: ${summaryLine(plan)}.`));
  if (scoped) out.push(paint('dim', scoped));
  const deletes = policyDeletes(changes);
  if (deletes.length > 0) {
    out.push(paint('yellow', `${deletes.length} resource(s) exist live but not in the tree; apply deletes them only with --allow-deletes.`));
    if (deletes.length > DEFAULT_MAX_DELETES) {
      out.push(paint('yellow', `That is more than max-deletes allows by default (${DEFAULT_MAX_DELETES}): apply refuses it unless --max-deletes (input max-deletes) is raised to ${deletes.length}.`));
    }
  }
  const destructive = destructiveChanges(changes);
  if (destructive.length > 0) {
    out.push(paint('yellow', `${destructive.length} change(s) take away an identity or access; apply makes them only with --allow-destructive-identity-changes:`));
    for (const c of destructive) out.push(paint('yellow', `  - ${c.destructive}`));
  }
  return out.join('\n') + '\n';
}
