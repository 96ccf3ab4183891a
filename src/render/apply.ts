/** The result of an apply, for a terminal (text) and for a job summary or PR comment (markdown). */
import type { ApplyResult } from '../model/apply.js';
import { mdCode, mdText } from './escape.js';

function counts(result: ApplyResult): string {
  const n = (a: string) => result.applied.filter((c) => c.action === a).length;
  return `${n('create')} created, ${n('update')} updated, ${n('delete')} deleted`;
}

export function renderApplyText(result: ApplyResult): string {
  const out: string[] = [];
  if (result.ok) out.push(result.applied.length === 0 ? 'Apply complete: nothing to write; live already matches the plan.' : `Apply complete: ${counts(result)}.`);
  else {
    out.push(`Apply FAILED: ${result.error}`);
    if (result.restored.length) {
      out.push('Restored what this run had written (newest first):');
      for (const r of result.restored) out.push(`  ${r.ok ? 'restored' : 'FAILED  '} ${r.address}: ${r.message}`);
    } else out.push('Nothing had been written.');
  }
  if (result.skippedDeletes.length) {
    out.push(`${result.skippedDeletes.length} delete(s) in the plan were not applied (pass --allow-deletes): ${result.skippedDeletes.map((c) => c.address).join(', ')}`);
  }
  if (result.skippedDestructive.length) {
    out.push(
      `${result.skippedDestructive.length} identity/RBAC removal(s) were not applied (pass --allow-destructive-identity-changes): ${result.skippedDestructive.map((c) => c.destructive).join('; ')}`,
    );
  }
  if (result.snapshotFile) out.push(`Snapshot of every resource this run touched, as it was before: ${result.snapshotFile}`);
  if (result.snapshotFile && result.restored.some((r) => !r.ok)) {
    out.push(`Once checked, \`apim-policy restore --snapshot ${result.snapshotFile}\` with the same target flags puts back what is still as this run left it (--force: also over changes made since).`);
  }
  return out.join('\n') + '\n';
}

/**
 * `maxListed` bounds the list of written resources (a PR comment has a size limit; the summary has
 * room). Addresses, names and messages (ARM's included) go through the escaping of ./escape.ts.
 */
export function renderApplyMarkdown(result: ApplyResult, options: { maxListed?: number } = {}): string {
  const out: string[] = [];
  const max = options.maxListed ?? Infinity;
  if (result.ok) {
    out.push(`**Applied:** ${counts(result)}.`);
    const who = (c: ApplyResult['applied'][number]) => (c.roleAssignment ? ` (${mdText(`${c.roleAssignment.roleName} for ${c.roleAssignment.identity} on ${c.roleAssignment.scope}`)})` : '');
    if (result.applied.length) out.push('', ...result.applied.slice(0, max).map((c) => `- ${c.action} ${mdCode(c.address)}${who(c)}`));
    if (result.applied.length > max) out.push(`- …and ${result.applied.length - max} more (the job summary lists them all)`);
  } else {
    out.push(`> [!CAUTION]\n> Apply failed: ${mdText(result.error ?? '')}`);
    out.push('', result.restored.length ? '**Restored** (newest first):' : 'Nothing had been written.');
    for (const r of result.restored.slice(0, max)) out.push(`- ${r.ok ? '✅' : '❌'} ${mdCode(r.address)}: ${mdText(r.message)}`);
    if (result.restored.length > max) out.push(`- …and ${result.restored.length - max} more (the job summary lists them all)`);
  }
  if (result.skippedDeletes.length) out.push('', `Not deleted (set \`allow-deletes: true\`): ${result.skippedDeletes.map((c) => mdCode(c.address)).join(', ')}`);
  if (result.skippedDestructive.length) {
    out.push('', `Not taken away (set \`allow-destructive-identity-changes: true\`): ${result.skippedDestructive.map((c) => mdText(c.destructive ?? c.address)).join('; ')}`);
  }
  if (result.snapshotFile) out.push('', `Snapshot of every resource touched, as it was before: ${mdCode(result.snapshotFile)}`);
  if (result.snapshotFile && result.restored.some((r) => !r.ok)) {
    out.push('', 'Once checked, `apim-policy restore --snapshot <that file>` with the same target puts back what is still as this run left it (`--force`: also over changes made since).');
  }
  return out.join('\n') + '\n';
}
