/**
 * Plans the instance's managed identities and their role assignments (identity.yaml) against
 * what is live. Pure: the live side (identity, principals, role assignments, resolved roles) is
 * read by the caller.
 *
 * - `identity`: one change when the system identity or the attached user-assigned set differs;
 *   taking one away is destructive.
 * - `roleAssignments/<guid>`: the GUID is a UUIDv5 of (scope, principal, role), so re-runs are
 *   idempotent and an assignment this tool made is recognisable by its name. A desired
 *   assignment that exists live under any name is satisfied. Managed ones no longer desired are
 *   deleted (destructive); assignments the tool did not make are reported, never deleted.
 * - Guardrails from the workflow, not the manifest: privileged roles and scopes outside the
 *   allowed ones are errors naming the input that would allow them.
 */
import type { IdentityManifest } from '../model/identity.js';
import { PRIVILEGED_ROLE_GUIDS, suggestRole } from '../model/roles.js';
import { normaliseScope, scopeProblem } from '../model/scope.js';
import { IDENTITY_ADDRESS, roleAssignmentAddress } from '../model/address.js';
import { roleAssignmentName } from '../model/role-assignment-name.js';
import { armIdWithin } from '../model/arm-id.js';
import type { Change, Diagnostic, IdentityShape, RoleAssignment } from '../model/index.js';
import type { Guardrails, IdentityQuery, LiveIdentity, LiveRoleAssignment } from '../model/live.js';
import { diffCanonical } from '../policy-xml/diff.js';
import { sha256 } from './policies.js';

export type { Guardrails, LiveIdentity, LiveRoleAssignment, UserAssignedInfo } from '../model/live.js';

/** The input a refusal names, in the words of the action and of the CLI. */
export const GUARDRAIL_INPUTS = {
  privileged: 'input allow-privileged-roles: true (CLI --allow-privileged-roles)',
  scopes: 'input allowed-scopes (CLI --allowed-scopes)',
  destructive: 'input allow-destructive-identity-changes: true (CLI --allow-destructive-identity-changes)',
};

export { roleAssignmentName } from '../model/role-assignment-name.js';

/** True when `name` is the name this tool gives the assignment: it made it. */
export function isManaged(a: LiveRoleAssignment): boolean {
  return a.name.toLowerCase() === roleAssignmentName(a.scope, a.principalId, a.roleDefinitionGuid);
}

const lower = (s: string) => s.toLowerCase();
const sameScope = (a: string, b: string) => lower(a) === lower(b);
/**
 * `scope` is `outer` or below it: whole segments compared case-insensitively, never a string
 * prefix; false when either is not a valid ARM id (`…/st1/../../..` is below nothing).
 */
export function scopeWithin(scope: string, outer: string): boolean {
  return armIdWithin(normaliseScope(scope), normaliseScope(outer));
}

/** The shape as text: what the plan diffs and hashes. */
export function identityText(shape: IdentityShape, aliases: Map<string, string> = new Map()): string {
  const lines = [`systemAssigned: ${shape.systemAssigned}`, 'userAssigned:'];
  for (const id of [...shape.userAssigned].sort((a, b) => lower(a).localeCompare(lower(b)))) {
    const alias = aliases.get(lower(id));
    lines.push(`  - ${id}${alias ? `  # ${alias}` : ''}`);
  }
  return lines.join('\n') + '\n';
}

export function identityHash(shape: IdentityShape): string {
  return sha256(identityText({ systemAssigned: shape.systemAssigned, userAssigned: shape.userAssigned.map(lower) }));
}

/** One line that says who gets which role where. */
export function describeAssignment(a: RoleAssignment): string {
  return `${a.roleName} for ${a.identity} (${a.principalId ?? 'principal known after apply'}) on ${a.scope}`;
}

function assignmentText(a: RoleAssignment): string {
  return [`role: ${a.roleName} (${a.roleDefinitionGuid})`, `identity: ${a.identity}`, `principalId: ${a.principalId ?? '(known after apply)'}`, `scope: ${a.scope}`].join('\n') + '\n';
}

/** `roleAssignments/<guid>`; while the principal is unknown the GUID is too, so the n-th such one is numbered. */
export function assignmentAddress(a: RoleAssignment, pendingIndex = 0): string {
  return roleAssignmentAddress(a.name ?? `(known after apply #${pendingIndex})`);
}

function change(base: Omit<Change, 'diff' | 'added' | 'removed'>, before: string, after: string): Change {
  const c: Change = { ...base };
  if (base.action !== 'noop') {
    const d = diffCanonical(before, after, `live/${base.address}`, `desired/${base.address}`);
    Object.assign(c, { diff: d.patch, added: d.added, removed: d.removed });
  }
  return c;
}

export interface IdentityPlan {
  /** In apply order: identity, role assignments to create (and satisfied ones), then those to delete. */
  first: Change[];
  last: Change[];
  problems: Diagnostic[];
}

export function planIdentity(manifest: IdentityManifest, live: LiveIdentity, guardrails: Guardrails): IdentityPlan {
  const problems: Diagnostic[] = [];
  const file = manifest.file;
  const problem = (line: number, column: number, message: string, rule = 'identity', severity: Diagnostic['severity'] = 'error') => problems.push({ severity, rule, file, line, column, message });

  // An allowed scope that is not a valid ARM id allows nothing (scopeWithin); say so rather than refuse every assignment without a reason.
  for (const allowed of guardrails.allowedScopes) {
    const invalid = allowed === '/' ? undefined : scopeProblem(allowed);
    if (invalid) problem(1, 1, `allowed scope ${invalid.replace(/^scope /, '')}; it allows nothing. Fix ${GUARDRAIL_INPUTS.scopes}`, 'guardrail');
  }

  // --- identity ---
  const aliases = new Map(manifest.userAssigned.map((u) => [lower(u.resourceId), u.alias]));
  const after: IdentityShape = {
    systemAssigned: manifest.systemAssigned ?? live.shape.systemAssigned,
    userAssigned: manifest.userAssignedDeclared ? manifest.userAssigned.map((u) => u.resourceId) : [...live.shape.userAssigned],
  };
  for (const u of manifest.userAssigned) {
    if (!live.userAssigned.has(lower(u.resourceId))) {
      problem(u.at.line, u.at.column, `user-assigned identity "${u.alias}" (${u.resourceId}) does not exist, or this run may not read it; create it first, or fix the resource ID`);
    }
  }
  const removed = live.shape.userAssigned.filter((id) => !after.userAssigned.some((x) => lower(x) === lower(id)));
  const reasons: string[] = [];
  if (live.shape.systemAssigned && !after.systemAssigned) reasons.push('disables the system-assigned identity');
  if (removed.length) reasons.push(`detaches ${removed.join(', ')}`);
  // Key Vault references stop resolving when the identity that fetches them goes away.
  for (const user of live.keyVaultUsers) {
    const info = user.identityClientId ? [...live.userAssigned.values()].find((u) => lower(u.clientId) === lower(user.identityClientId!)) : undefined;
    const loses = user.identityClientId ? !!info && removed.some((id) => lower(id) === lower(info.resourceId)) : live.shape.systemAssigned && !after.systemAssigned;
    if (loses) {
      const who = user.identityClientId ? `the user-assigned identity ${info!.resourceId}` : 'the system-assigned identity';
      problem(
        manifest.identityLine ?? 1,
        1,
        `${user.what} reads its Key Vault secret with ${who}, which this plan takes away: it will stop resolving (and the policies using it fail). Move it to another identity first.`,
        'identity-keyvault',
        'warning',
      );
    }
  }
  const identityDiffers = identityHash(live.shape) !== identityHash(after);
  const identityChange = change(
    {
      address: IDENTITY_ADDRESS,
      action: identityDiffers ? 'update' : 'noop',
      resourceType: 'identity',
      file,
      ...(manifest.identityLine ? { line: manifest.identityLine } : {}),
      live: { sha256: identityHash(live.shape) },
      ...(identityDiffers ? { identity: { before: live.shape, after } } : {}),
      ...(reasons.length ? { destructive: `identity: ${reasons.join('; ')}` } : {}),
    },
    identityText(live.shape, aliases),
    identityText(after, aliases),
  );

  // --- who is who ---
  const systemWillBeNew = after.systemAssigned && !live.shape.systemAssigned;
  const principalOf = (ref: string): { principalId?: string; label: string } | undefined => {
    if (lower(ref) === 'system') return { ...(live.systemPrincipalId && !systemWillBeNew ? { principalId: live.systemPrincipalId } : {}), label: 'system' };
    const spec = manifest.userAssigned.find((u) => lower(u.alias) === lower(ref));
    const info = spec ? live.userAssigned.get(lower(spec.resourceId)) : undefined;
    return info ? { principalId: info.principalId, label: spec!.alias } : undefined;
  };

  // --- desired role assignments ---
  const first: Change[] = [identityChange];
  const satisfied = new Set<string>();
  let pending = 0;
  for (const want of manifest.roleAssignments) {
    const at = want.at;
    const roleGuid = want.roleDefinitionGuid ?? live.resolvedRoles.get(lower(want.role));
    if (!roleGuid) {
      // Azure's own names at the scope when it listed them, else the built-in ones known offline.
      const hint = live.knownRoleNames.length ? suggestRole(want.role, live.knownRoleNames) : suggestRole(want.role);
      const where = want.roleAt ?? at;
      problem(
        where.line,
        where.column,
        `role "${want.role}" does not exist at ${want.scope} (Azure has no role definition of that name there)` +
          (hint ? `; did you mean "${hint}"?` : '; use the exact name of a built-in or custom role, or its role definition GUID'),
      );
      continue;
    }
    const roleName = live.roleNames.get(roleGuid) ?? want.role;
    if (PRIVILEGED_ROLE_GUIDS.has(roleGuid) && !guardrails.allowPrivilegedRoles) {
      problem(
        at.line,
        at.column,
        `role "${roleName}" is privileged (it can change access or everything else at ${want.scope}); refused. A workflow that means it sets ${GUARDRAIL_INPUTS.privileged}`,
        'guardrail',
      );
      continue;
    }
    if (!guardrails.allowedScopes.some((s) => scopeWithin(want.scope, s))) {
      problem(at.line, at.column, `scope ${want.scope} is outside the scopes this workflow allows (${guardrails.allowedScopes.join(', ')}); refused. Widen ${GUARDRAIL_INPUTS.scopes}`, 'guardrail');
      continue;
    }
    const who = principalOf(want.identity);
    if (!who) continue; // the missing identity is already reported above
    const spec: RoleAssignment = { scope: want.scope, roleDefinitionGuid: roleGuid, roleName, identity: who.label, ...(want.description ? { description: want.description } : {}) };
    if (who.principalId) {
      spec.principalId = who.principalId;
      const existing = live.assignments.find((a) => sameScope(a.scope, want.scope) && lower(a.principalId) === lower(who.principalId!) && lower(a.roleDefinitionGuid) === roleGuid);
      spec.name = existing?.name ?? roleAssignmentName(want.scope, who.principalId, roleGuid);
      if (existing) satisfied.add(lower(existing.name));
      const text = assignmentText(spec);
      first.push(
        change(
          {
            address: assignmentAddress(spec),
            action: existing ? 'noop' : 'create',
            resourceType: 'roleAssignment',
            file,
            line: at.line,
            roleAssignment: spec,
            ...(existing ? { live: { sha256: sha256(text) } } : {}),
          },
          existing ? text : '',
          text,
        ),
      );
    } else {
      first.push(change({ address: assignmentAddress(spec, ++pending), action: 'create', resourceType: 'roleAssignment', file, line: at.line, roleAssignment: spec }, '', assignmentText(spec)));
    }
  }

  // --- live assignments nobody asked for ---
  const last: Change[] = [];
  const labelOf = (principalId: string): string => {
    if (live.systemPrincipalId && lower(live.systemPrincipalId) === lower(principalId)) return 'system';
    for (const info of live.userAssigned.values()) if (lower(info.principalId) === lower(principalId)) return aliases.get(lower(info.resourceId)) ?? info.resourceId;
    return principalId;
  };
  for (const a of live.assignments) {
    if (satisfied.has(lower(a.name))) continue;
    const spec: RoleAssignment = {
      name: a.name,
      scope: a.scope,
      roleDefinitionGuid: lower(a.roleDefinitionGuid),
      roleName: live.roleNames.get(lower(a.roleDefinitionGuid)) ?? a.roleDefinitionGuid,
      identity: labelOf(a.principalId),
      principalId: a.principalId,
    };
    if (!isManaged(a)) {
      problem(
        1,
        1,
        `${roleAssignmentAddress(a.name)} (${describeAssignment(spec)}) was not made by apim-policy-deploy, so it is left alone; add it to ${file} to manage it`,
        'unmanaged-role-assignment',
        'info',
      );
      continue;
    }
    const text = assignmentText(spec);
    last.push(
      change(
        {
          address: assignmentAddress(spec),
          action: 'delete',
          resourceType: 'roleAssignment',
          file,
          roleAssignment: spec,
          live: { sha256: sha256(text) },
          destructive: `deletes the role assignment ${describeAssignment(spec)}`,
        },
        text,
        '',
      ),
    );
  }
  return { first, last, problems };
}

/** What the live side must read for this manifest (the `LiveReader` is not given the manifest itself). */
export function identityQueryOf(manifest: IdentityManifest): IdentityQuery {
  return {
    userAssigned: manifest.userAssigned.map((u) => u.resourceId),
    roleAssignments: manifest.roleAssignments.map((r) => ({ role: r.role, scope: r.scope, ...(r.roleDefinitionGuid ? { roleDefinitionGuid: r.roleDefinitionGuid } : {}) })),
  };
}
