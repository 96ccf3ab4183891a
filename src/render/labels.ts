import type { Change, Plan } from '../model/index.js';
import { parseAddress } from '../model/kinds.js';

export const ACTION_VERB: Record<Change['action'], string> = {
  create: 'create',
  update: 'update',
  delete: 'delete',
  noop: 'no change',
};

export const ACTION_SYMBOL: Record<Change['action'], string> = { create: '+', update: '~', delete: '-', noop: ' ' };

export function pendingChanges(plan: Plan): Change[] {
  return plan.changes.filter((c) => c.action !== 'noop');
}

/** The counts, and how many errors stop the plan (apply refuses a plan with any). */
export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  const errors = plan.problems.filter((p) => p.severity === 'error').length;
  const stop = errors ? `; ${plural(errors, 'error')} stop${errors === 1 ? 's' : ''} it: apply would refuse it` : '';
  return `${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.unchanged} unchanged${stop}`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The address, and for a role assignment who gets which role: GUIDs alone say nothing to a reviewer. */
export function changeLabel(c: Change): string {
  const a = c.roleAssignment;
  return a ? `${c.address} (${a.roleName} for ${a.identity})` : c.address;
}

/** Policy deletes (behind allow-deletes) and identity/RBAC removals (behind their own opt-in). */
export function policyDeletes(changes: Change[]): Change[] {
  return changes.filter((c) => c.action === 'delete' && c.resourceType !== 'roleAssignment');
}

export function destructiveChanges(changes: Change[]): Change[] {
  return changes.filter((c) => c.action !== 'noop' && c.destructive);
}

/** The one line that says a plan is scoped, or undefined for a full plan. */
export function scopedNote(plan: Plan): string | undefined {
  const s = plan.scoped;
  if (!s) return undefined;
  return `Scoped plan: only the ${s.read} resource(s) that differ from ${s.base}${s.identity ? ' and the identity' : ''} were read; drift elsewhere is not looked for (a full plan finds it).`;
}

/** How many policies a fragment's line names before "and N more". */
export const IMPACT_INLINE = 10;

/** The name a reviewer knows a fragment, named value or backend by (`correlation`, `{{orders-key}}`), from its address. */
export function fragmentName(c: Change): string {
  const at = parseAddress(c.address);
  const id = at && Object.values(at.params)[0];
  if (!at || id === undefined) return c.address;
  const ws = at.workspace !== undefined ? `${at.workspace}/` : '';
  if (at.kind === 'namedValue') return `{{${ws}${id}}}`;
  if (at.kind === 'backend') return `backend ${ws}${id}`;
  return `${ws}${id}`;
}

/**
 * "is included by 14 policies" / "is used by 1 backend and 2 policies" / "is used by no policy":
 * the head of an impact line (fragments are included, named values and backends used; a named
 * value's impact lists the backends that name it before the policies).
 */
export function impactHead(impact: readonly string[], resourceType: Change['resourceType'] = 'fragment'): string {
  const verb = resourceType === 'fragment' ? 'is included by' : 'is used by';
  if (!impact.length) return `${verb} no policy`;
  const backends = impact.filter((a) => parseAddress(a)?.kind === 'backend').length;
  const policies = impact.length - backends;
  const parts = [...(backends ? [plural(backends, 'backend')] : []), ...(policies || !backends ? [plural(policies, 'policy').replace(/policys$/, 'policies')] : [])];
  return `${verb} ${parts.join(' and ')}`;
}
