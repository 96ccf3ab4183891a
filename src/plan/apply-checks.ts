/**
 * What apply checks before its first write (plan/apply.ts, steps 1 and 2): that live is still
 * what the plan saw, that the diff reviewed is the diff of what it writes, the guardrails and the
 * delete limit.
 */
import { parsePolicyAddress } from '../model/address.js';
import type { Address, Change, IdentityShape, LiveCopy } from '../model/index.js';
import { canonicalize, parsePolicyDocument } from '../policy-xml/index.js';
import { PRIVILEGED_ROLE_GUIDS } from '../model/roles.js';
import { canonicalHashOf, isEntityChange, isPolicyChange } from './integrity.js';
import { policyDiff } from './policies.js';
import { GUARDRAIL_INPUTS, describeAssignment, scopeWithin, type Guardrails } from './identity.js';

export function bareEtag(etag: string | undefined): string | undefined {
  return etag
    ?.trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');
}

/** The canonical hash of a policy document (integrity.ts makes it), or undefined when it does not parse. */
export function canonicalHash(address: Address, xml: string): string | undefined {
  return canonicalHashOf(address, xml).sha256;
}

/** Why `now` is not what the plan saw, or undefined when it is. */
export function driftOf(change: Change, now: LiveCopy | undefined): string | undefined {
  if (change.action === 'create') return now ? `${change.address} was created live since the plan` : undefined;
  if (!now) return `${change.address} was deleted live since the plan`;
  const planned = bareEtag(change.live?.etag);
  if (planned !== undefined && planned !== bareEtag(now.etag)) {
    return `${change.address} was changed live since the plan (ETag ${change.live!.etag} then, ${now.etag} now)`;
  }
  if (planned === undefined && change.live && canonicalHash(change.address, now.xml) !== change.live.sha256) {
    return `${change.address} was changed live since the plan`;
  }
  return undefined;
}

/** Whether the plan's diff for a policy is the diff of `now` (live) and the content the plan writes. */
export function reviewedDiffHolds(change: Change, now: LiveCopy | undefined): boolean {
  const canonical = (xml: string) => {
    const kind = parsePolicyAddress(change.address)?.kind === 'fragment' ? 'fragment' : 'policies';
    return canonicalize(parsePolicyDocument(xml, { file: change.address, expect: kind }));
  };
  try {
    const want = change.action === 'delete' ? undefined : change.desired;
    const descriptions = { both: !!want && !!now, ...(now?.description !== undefined ? { live: now.description } : {}), ...(want?.description !== undefined ? { desired: want.description } : {}) };
    const d = policyDiff(change.address, now ? canonical(now.xml) : '', want ? canonical(want.xml) : '', descriptions);
    return d.patch === (change.diff ?? '') && d.added === (change.added ?? 0) && d.removed === (change.removed ?? 0);
  } catch {
    return false;
  }
}

/** The refusal when apply would delete more than `max` resources, or undefined. */
export function deleteCountRefusal(
  pending: Change[],
  allowDeletes: boolean,
  destructiveOk: boolean,
  narrowing: { from: IdentityShape; to: IdentityShape } | undefined,
  max: number,
): string | undefined {
  if (max < 0) return undefined;
  const policies = allowDeletes ? pending.filter((c) => isPolicy(c) && c.action === 'delete').length : 0;
  const entities = allowDeletes ? pending.filter((c) => isEntityChange(c) && c.action === 'delete').length : 0;
  const assignments = destructiveOk ? pending.filter((c) => c.resourceType === 'roleAssignment' && c.action === 'delete').length : 0;
  let identities = 0;
  if (narrowing) {
    if (narrowing.from.systemAssigned && !narrowing.to.systemAssigned) identities++;
    identities += narrowing.from.userAssigned.filter((id) => !narrowing.to.userAssigned.some((x) => lower(x) === lower(id))).length;
  }
  const total = policies + entities + assignments + identities;
  if (total <= max) return undefined;
  const parts = [
    policies ? `${policies} polic${policies === 1 ? 'y' : 'ies'}` : '',
    entities ? `${entities} named value(s) or backend(s)` : '',
    assignments ? `${assignments} role assignment(s)` : '',
    identities ? `${identities} identit${identities === 1 ? 'y' : 'ies'} taken away` : '',
  ].filter(Boolean);
  return (
    `this plan deletes ${total} resources (${parts.join(', ')}), more than max-deletes allows (${max}); nothing was written. ` +
    `If that many deletes are meant, raise the limit for this run: --max-deletes ${total} (action input max-deletes: ${total}), or -1 for no limit.`
  );
}

export const isPolicy = isPolicyChange;
export const lower = (s: string) => s.toLowerCase();

export function union(a: IdentityShape, b: IdentityShape): IdentityShape {
  const ids = [...a.userAssigned];
  for (const id of b.userAssigned) if (!ids.some((x) => lower(x) === lower(id))) ids.push(id);
  return { systemAssigned: a.systemAssigned || b.systemAssigned, userAssigned: ids };
}

/** The workflow's guardrails, checked again at apply time (a saved plan may come from a looser workflow). */
export function guardrailRefusals(changes: Change[], guardrails: Guardrails | undefined): string[] {
  if (!guardrails) return [];
  const out: string[] = [];
  for (const c of changes) {
    const a = c.roleAssignment;
    if (c.action !== 'create' || !a) continue;
    if (PRIVILEGED_ROLE_GUIDS.has(lower(a.roleDefinitionGuid)) && !guardrails.allowPrivilegedRoles) {
      out.push(`${describeAssignment(a)}: "${a.roleName}" is a privileged role; ${GUARDRAIL_INPUTS.privileged} allows it`);
    }
    if (!guardrails.allowedScopes.some((s) => scopeWithin(a.scope, s))) {
      out.push(`${describeAssignment(a)}: ${a.scope} is outside the allowed scopes (${guardrails.allowedScopes.join(', ')}); ${GUARDRAIL_INPUTS.scopes} allows it`);
    }
  }
  return out;
}
