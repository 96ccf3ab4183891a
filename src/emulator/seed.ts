/**
 * `--seed DIR`: the live state starts as a policies tree describes. Named values and backends come
 * from APIOps' own files when the tree has them (`named values/<name>/namedValueInformation.json`,
 * `backends/<name>/backendInformation.json`), so reference checks have something to find. Every policy is stored as a
 * PUT would store it (APIM-serialised, a fresh ETag each), and the APIs, operations and products
 * the addresses imply are stored too (`apis/{a}`, `apis/{a}/operations/{o}`, `products/{p}` with
 * value `{displayName}`), so the lists show them. An `identity.yaml` sets the instance's identity
 * and its role assignments (under the names apim-policy-deploy gives them).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicyTree } from '../desired/load-tree.js';
import { loadIdentityManifest } from '../desired/identity-manifest.js';
import { addressKey } from '../model/address.js';
import type { Diagnostic, PolicyScope } from '../model/index.js';
import { roleAssignmentName } from '../plan/identity.js';
import { BUILT_IN_ROLES, seedIdentity } from './arm-identity.js';
import { storePolicy } from './arm-policies.js';
import type { EmulatorState } from './types.js';

/** Entities (address, id) a policy's scope implies. */
function impliedEntities(scope: PolicyScope): Array<[string, string]> {
  const ws = scope.workspace ? `workspaces/${scope.workspace}/` : '';
  switch (scope.kind) {
    case 'api':
      return [[`${ws}apis/${scope.apiId}`, scope.apiId]];
    case 'operation':
      return [
        [`${ws}apis/${scope.apiId}`, scope.apiId],
        [`${ws}apis/${scope.apiId}/operations/${scope.operationId}`, scope.operationId],
      ];
    case 'product':
      return [[`${ws}products/${scope.productId}`, scope.productId]];
    default:
      return [];
  }
}

/**
 * Loads `dir` into `state`. Throws when the tree has errors (the emulator should not start on a
 * tree that cannot be deployed); returns the number of policies stored and any warnings.
 */
export async function seedFromTree(state: EmulatorState, dir: string): Promise<{ policies: number; warnings: Diagnostic[] }> {
  const tree = await loadPolicyTree(dir);
  const identity = loadIdentityManifest(dir);
  tree.diagnostics.push(...identity.diagnostics);
  const errors = tree.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    throw new Error(
      `cannot seed from ${dir}:\n` + errors.map((d) => `  ${d.file}:${d.line}:${d.column}: ${d.message}`).join('\n'),
    );
  }
  let policies = 0;
  const resources = [...tree.state.resources.values()].sort((a, b) => (a.address < b.address ? -1 : 1));
  for (const r of resources) {
    storePolicy(state, r.address, r.xml, r.description);
    policies += 1;
    for (const [address, id] of impliedEntities(r.scope)) {
      if (!state.resources.has(addressKey(address))) {
        const rev = /;rev=\d+$/i.exec(id);
        const displayName = rev ? id.slice(0, rev.index) : id;
        state.resources.set(addressKey(address), { address, value: { displayName }, etag: `"${state.nextEtag()}"` });
      }
    }
  }
  for (const [folder, collection, file] of [
    ['named values', 'namedValues', 'namedValueInformation.json'],
    ['backends', 'backends', 'backendInformation.json'],
  ] as const) {
    let names: string[];
    try {
      names = readdirSync(join(dir, folder));
    } catch {
      continue;
    }
    for (const name of names) {
      let properties: Record<string, unknown>;
      try {
        properties = (JSON.parse(readFileSync(join(dir, folder, name, file), 'utf8')) as { properties?: Record<string, unknown> }).properties ?? {};
      } catch (e) {
        throw new Error(`cannot seed from ${join(dir, folder, name, file)}: ${(e as Error).message}`);
      }
      const address = `${collection}/${name}`;
      state.resources.set(addressKey(address), { address, value: properties, etag: `"${state.nextEtag()}"` });
    }
  }
  const m = identity.manifest;
  if (m) {
    const roleGuid = (role: string, guid?: string) => guid ?? Object.entries(BUILT_IN_ROLES).find(([n]) => n.toLowerCase() === role.toLowerCase())?.[1];
    const assignments = m.roleAssignments.map((r) => {
      const guid = roleGuid(r.role, r.roleDefinitionGuid);
      if (!guid) throw new Error(`cannot seed from ${m.file}:${r.at.line}: the emulator knows no role "${r.role}"`);
      const ua = m.userAssigned.find((u) => u.alias.toLowerCase() === r.identity.toLowerCase());
      return { identity: ua ? ua.resourceId : 'system', scope: r.scope, roleGuid: guid };
    });
    seedIdentity(state, { systemAssigned: m.systemAssigned ?? false, userAssigned: m.userAssigned.map((u) => u.resourceId) }, assignments, roleAssignmentName);
  }
  return { policies, warnings: tree.diagnostics.filter((d) => d.severity !== 'error') };
}
