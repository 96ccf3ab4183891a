/**
 * Deletes that would break what stays: a fragment, named value or backend the plan deletes while a
 * policy, fragment or backend remaining after apply still uses it. APIM refuses to delete a
 * fragment a policy includes, and a policy whose `{{name}}` or `backend-id` no longer resolves
 * fails at run time (or its next write is refused): the plan stops first. Pure, like impact.ts,
 * whose reference index it reads: `after` holds the desired resources and the live ones the plan
 * keeps, so a user that only live has counts.
 */
import { addressKey } from '../model/address.js';
import type { EntityResource } from '../model/entities.js';
import { formatTreePath, parseAddress } from '../model/kinds.js';
import type { Change, Diagnostic, PolicyResource } from '../model/index.js';
import type { PolicyDocument } from '../policy-xml/index.js';
import { buildReferenceIndex, type ReferenceKind, type Use } from './impact.js';

export const DELETE_IN_USE = 'delete-in-use';

const GUARDED: ReadonlySet<string> = new Set<ReferenceKind>(['fragment', 'namedValue', 'backend']);

const WHAT: Record<ReferenceKind, string> = { fragment: 'fragment', namedValue: 'named value', backend: 'backend' };

const shown = (use: Use) => (use.file !== undefined ? `${use.address} (${use.file}${use.line ? ` line ${use.line}` : ''})` : `${use.address} (live only)`);

/**
 * One error (rule `delete-in-use`) per deleted fragment, named value or backend that something in
 * `after` (policies and fragments) or `entitiesAfter` (backends naming a named value) still uses.
 */
export function deleteGuards(changes: Change[], after: Iterable<PolicyResource>, documents?: { get(key: string): PolicyDocument | undefined }, entitiesAfter?: Iterable<EntityResource>): Diagnostic[] {
  const deletes = changes.filter((c) => c.action === 'delete' && GUARDED.has(c.resourceType));
  if (!deletes.length) return [];
  const deleted = new Set(deletes.map((c) => addressKey(c.address)));
  const index = buildReferenceIndex(after, documents, entitiesAfter);
  const out: Diagnostic[] = [];
  for (const c of deletes) {
    const kind = c.resourceType as ReferenceKind;
    // A user the same plan deletes is no user (the caller's `after` normally lacks it already).
    const users = [...(index.get(kind)?.get(addressKey(c.address))?.values() ?? [])].filter((u) => !deleted.has(addressKey(u.address)));
    if (!users.length) continue;
    users.sort((a, b) => Number(a.file === undefined) - Number(b.file === undefined) || a.address.toLowerCase().localeCompare(b.address.toLowerCase()));
    const first = users[0]!;
    const located = parseAddress(c.address);
    const file = c.file ?? (located ? formatTreePath(located) : undefined);
    const keep = file !== undefined ? `keep ${file} in the tree` : `keep ${c.address} in the tree`;
    out.push({
      severity: 'error',
      rule: DELETE_IN_USE,
      file: first.file ?? first.address,
      line: first.file !== undefined ? (first.line ?? 1) : 0,
      column: 0,
      address: c.address,
      message: `the plan deletes ${WHAT[kind]} ${c.address}, but after apply ${users.map(shown).join(', ')} still use${users.length === 1 ? 's' : ''} it; ` + `remove the uses first, or ${keep}`,
    });
  }
  return out;
}
