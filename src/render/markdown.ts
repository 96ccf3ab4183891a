import type { Change, Diagnostic, Plan } from '../model/index.js';
import { codeBlock, htmlCode, htmlText, mdCode, mdText } from './escape.js';
import { ACTION_SYMBOL, ACTION_VERB, destructiveChanges, fragmentName, impactHead, pendingChanges, plural, policyDeletes, scopedNote, summaryLine } from './labels.js';

export interface MarkdownOptions {
  /** Heading text, e.g. the environment or instance the plan is for. */
  title?: string;
  /** First line of the body, e.g. a hidden sticky-comment marker. */
  marker?: string;
  /** Link to the workflow run; shown beside the commit. */
  runUrl?: string;
  /** The commit to name (default the plan's): on a pull request, the head commit its author pushed. */
  commit?: string;
  /** Where the full plan can be read when this rendering is trimmed (the run's job summary). */
  fullPlanUrl?: string;
  /** Hard limit on the body length in characters (GitHub rejects comments over 65,536). */
  maxLength?: number;
  /** Longest diff shown for a single resource before it is cut. */
  maxDiffLength?: number;
  /** Most rows in the change table. */
  maxTableRows?: number;
}

const MINUS = '\u2212';

function lines(c: Change): string {
  if (c.replaced) return `${c.replaced.before} → ${c.replaced.after} lines, replaced`;
  return c.added !== undefined ? `+${c.added} ${MINUS}${c.removed ?? 0}` : '';
}

/** One finding as a list item: its place as code, its message as inert text. */
export function diagnosticLine(d: Diagnostic): string {
  return `- ${mdCode(`${d.file}:${d.line}:${d.column}`)} ${mdText(d.message)} (${mdText(d.rule)})`;
}

function detailsBlock(c: Change, maxDiff: number): string {
  let diff = (c.diff ?? '').replace(/\n$/, '');
  let note = '';
  if (diff.length > maxDiff) {
    const cut = diff.lastIndexOf('\n', maxDiff);
    diff = diff.slice(0, cut > 0 ? cut : maxDiff);
    note = `\n\n_Diff trimmed to ${maxDiff.toLocaleString('en-US')} characters; the plan file has all of it._`;
  }
  const who = c.roleAssignment ? ` ${htmlText(`${c.roleAssignment.roleName} for ${c.roleAssignment.identity}`)}` : '';
  return `<details><summary>${ACTION_SYMBOL[c.action]} ${ACTION_VERB[c.action]} ${htmlCode(c.address)}${who} ${lines(c)}</summary>\n\n` + `${codeBlock(diff, 'diff')}${note}\n\n</details>\n`;
}

/** Most policies one fragment's impact section lists (the plan file has them all). */
const MAX_IMPACT_ROWS = 300;

/** Per changed fragment, the policies that run it, folded away: a reviewer opens it to see what the change reaches. */
function impactSection(changes: Change[]): string[] {
  const out: string[] = [];
  for (const c of changes) {
    if (!c.impact) continue;
    out.push(`<details><summary>${htmlCode(fragmentName(c))} ${htmlText(impactHead(c.impact, c.resourceType))}</summary>`, '');
    for (const a of c.impact.slice(0, MAX_IMPACT_ROWS)) out.push(`- ${mdCode(a)}`);
    if (c.impact.length > MAX_IMPACT_ROWS) out.push(`- …and ${c.impact.length - MAX_IMPACT_ROWS} more (the plan file lists them all)`);
    if (!c.impact.length) out.push(c.resourceType === 'fragment' ? '_No policy includes it, directly or through another fragment._' : '_No policy uses it, directly or through a fragment._');
    out.push('', '</details>', '');
  }
  return out;
}

/**
 * The plan for a pull request comment or a job summary. Counts, warnings about deletions and
 * problems always fit; per-resource diffs are added while they fit `maxLength`, and a note
 * points at the full plan for the rest.
 */
export function renderMarkdown(plan: Plan, options: MarkdownOptions = {}): string {
  const maxLength = options.maxLength ?? Infinity;
  const maxDiff = options.maxDiffLength ?? 20000;
  const maxRows = options.maxTableRows ?? 100;
  const head: string[] = [];
  if (options.marker) head.push(options.marker);
  head.push(`### ${mdText(options.title ?? 'APIM policy plan')}`, '');
  const meta: string[] = [];
  const commit = options.commit ?? plan.commit;
  if (commit) meta.push(`commit ${mdCode(commit.slice(0, 12))}`);
  if (options.runUrl) meta.push(`[workflow run](${options.runUrl})`);
  const changes = pendingChanges(plan);
  const errors = plan.problems.filter((p) => p.severity === 'error');
  const others = plan.problems.filter((p) => p.severity !== 'error');

  const scoped = scopedNote(plan);
  if (changes.length === 0 && plan.problems.length === 0) {
    return [
      ...head,
      `**No changes.** Live APIM matches the policies tree (${plural(plan.summary.unchanged, 'resource')})${meta.length ? ' · ' + meta.join(' · ') : ''}.`,
      ...(scoped ? ['', `_${mdText(scoped)}_`] : []),
      '',
    ].join('\n');
  }
  head.push(`**Plan:** ${summaryLine(plan)}${meta.length ? ' · ' + meta.join(' · ') : ''}`, '');
  if (scoped) head.push(`_${mdText(scoped)}_`, '');

  const deletes = policyDeletes(changes);
  if (deletes.length) {
    head.push('> [!WARNING]', `> ${deletes.length} resource(s) exist in APIM but not in the tree. Apply deletes them only when deletes are allowed (\`allow-deletes\`):`);
    for (const d of deletes.slice(0, 20)) head.push(`> - ${mdCode(d.address)}`);
    if (deletes.length > 20) head.push(`> - …and ${deletes.length - 20} more`);
    head.push('');
  }
  const destructive = destructiveChanges(changes);
  if (destructive.length) {
    head.push('> [!WARNING]', `> ${destructive.length} change(s) take away an identity or access. Apply makes them only when allowed (\`allow-destructive-identity-changes\`):`);
    for (const d of destructive.slice(0, 20)) head.push(`> - ${mdText(d.destructive!)}`);
    if (destructive.length > 20) head.push(`> - …and ${destructive.length - 20} more`);
    head.push('');
  }
  if (errors.length) {
    head.push('> [!CAUTION]', `> ${errors.length} problem(s) must be fixed before this can be applied:`);
    for (const d of errors.slice(0, 20)) head.push(`> ${diagnosticLine(d)}`);
    if (errors.length > 20) head.push(`> - …and ${errors.length - 20} more`);
    head.push('');
  }
  if (others.length) {
    head.push(`<details><summary>${others.length} warning(s)</summary>`, '');
    for (const d of others.slice(0, 50)) head.push(diagnosticLine(d));
    if (others.length > 50) head.push(`- …and ${others.length - 50} more`);
    head.push('', '</details>', '');
  }
  if (changes.length) {
    head.push('| | Resource | File | Lines |', '|---|---|---|---|');
    for (const c of changes.slice(0, maxRows)) {
      // Cells: `|` escaped in code spans too, so no name can add a cell.
      const who = c.roleAssignment ? ` ${mdText(`${c.roleAssignment.roleName} for ${c.roleAssignment.identity}`)}` : '';
      const file = c.file ? mdCode(c.line ? `${c.file}:${c.line}` : c.file, { table: true }) : '';
      head.push(`| ${ACTION_SYMBOL[c.action]} ${ACTION_VERB[c.action]} | ${mdCode(c.address, { table: true })}${who} | ${file} | ${lines(c)} |`);
    }
    if (changes.length > maxRows) head.push(`| | …and ${changes.length - maxRows} more | | |`);
    head.push('');
  }

  head.push(...impactSection(changes));

  let body = head.join('\n');
  const omittedNote = (n: number) =>
    `\n_${n} diff(s) not shown here to stay within GitHub's comment limit${options.fullPlanUrl ? `: see the [full plan](${options.fullPlanUrl})` : '; see the plan file'}._\n`;
  const reserve = omittedNote(changes.length).length;
  let shown = 0;
  for (const c of changes) {
    const block = detailsBlock(c, maxDiff);
    if (body.length + block.length + reserve > maxLength) break;
    body += '\n' + block;
    shown++;
  }
  if (shown < changes.length) body += omittedNote(changes.length - shown);
  return body;
}

/**
 * Findings of a lint run that stops before planning: the errors (all of them when `maxLength`
 * allows, else as many as fit and a count), then the warnings folded away.
 */
export function renderLintMarkdown(findings: Diagnostic[], options: Pick<MarkdownOptions, 'title' | 'marker' | 'runUrl' | 'commit' | 'maxLength'> & { note?: string } = {}): string {
  const maxLength = options.maxLength ?? Infinity;
  const errors = findings.filter((d) => d.severity === 'error');
  const others = findings.filter((d) => d.severity !== 'error');
  const out: string[] = [];
  if (options.marker) out.push(options.marker);
  out.push(`### ${mdText(options.title ?? 'APIM policy lint')}`, '');
  const meta: string[] = [];
  if (options.commit) meta.push(`commit ${mdCode(options.commit.slice(0, 12))}`);
  if (options.runUrl) meta.push(`[workflow run](${options.runUrl})`);
  const counts = `${plural(errors.length, 'error')}, ${plural(others.length, 'warning')}`;
  if (options.note) out.push(options.note, '');
  if (!errors.length) {
    out.push(`**Lint:** ${counts}${meta.length ? ' · ' + meta.join(' · ') : ''}.`, '');
  } else {
    out.push('> [!CAUTION]', `> **Lint:** ${counts}; nothing was planned or written${meta.length ? ' · ' + meta.join(' · ') : ''}.`, '');
  }
  let body = out.join('\n');
  const fits = (text: string, reserve: number) => body.length + text.length + reserve <= maxLength;
  let shown = 0;
  for (const d of errors) {
    const line = diagnosticLine(d) + '\n';
    if (!fits(line, others.length ? 400 : 200)) break;
    body += line;
    shown++;
  }
  if (shown < errors.length) body += `- …and ${errors.length - shown} more error(s): the job summary lists them\n`;
  if (others.length) {
    body += `\n<details><summary>${plural(others.length, 'warning')}</summary>\n\n`;
    let listed = 0;
    for (const d of others) {
      const line = diagnosticLine(d) + '\n';
      if (!fits(line, 200)) break;
      body += line;
      listed++;
    }
    if (listed < others.length) body += `- …and ${others.length - listed} more\n`;
    body += '\n</details>\n';
  }
  return body;
}
