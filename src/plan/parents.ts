/**
 * The parents check: ARM refuses a policy under an API, operation, product or workspace the
 * instance does not have (404 "Entity with specified identifier not found"), and this tool does not
 * create them. So a desired policy whose parent is missing live is an error at its file, found at
 * plan time — never a create that breaks half-way through an apply. Only parents whose collection
 * was read are judged (see `LiveParents`); a snapshot plan has none and checks nothing.
 */
import { addressKey } from '../model/address.js';
import { closestName } from '../model/closest-name.js';
import type { Diagnostic, State } from '../model/index.js';
import type { EntityResource } from '../model/entities.js';
import { parentListed, policyParents, type LiveParents, type PolicyParent } from '../model/live.js';

const WHAT: Record<PolicyParent['kind'], { one: string; many: string }> = {
  workspace: { one: 'workspace', many: 'workspaces' },
  api: { one: 'API', many: 'APIs' },
  operation: { one: 'operation', many: 'operations' },
  product: { one: 'product', many: 'products' },
};

/** One error per desired policy or fragment whose outermost missing parent is named (with the nearest live name, if one is close). */
export function checkParents(desired: State, parents: LiveParents, entities: Iterable<EntityResource> = []): Diagnostic[] {
  const problems: Diagnostic[] = [];
  const resources = [...desired.resources.values(), ...entities].sort((a, b) => (addressKey(a.address) < addressKey(b.address) ? -1 : 1));
  for (const r of resources) {
    // A workspace's named value or backend needs its workspace (ARM's 404 otherwise, as for a policy).
    const entity = r.type === 'entity' ? (r.kind === 'namedValue' ? 'named value' : 'backend') : undefined;
    const chain = r.type === 'entity' ? (r.workspace !== undefined ? [{ kind: 'workspace' as const, collection: 'workspaces', name: r.workspace }] : []) : policyParents(r.address);
    for (let i = 0; i < chain.length; i++) {
      const parent = chain[i]!;
      const listed = parentListed(parents, parent);
      if (listed !== false) {
        if (listed === undefined) break;
        continue;
      }
      const what = WHAT[parent.kind];
      const outer = chain
        .slice(0, i)
        .reverse()
        .map((p) => ` of ${WHAT[p.kind].one} \`${p.name}\``)
        .join('');
      const near = closestName(parent.name, parents.collections.get(parent.collection) ?? [], { charactersPerSlip: 4, swaps: true });
      problems.push({
        severity: 'error',
        rule: 'missing-parent',
        file: r.file ?? r.address,
        line: (r.type === 'entity' && r.line) || 1,
        column: 1,
        address: r.address,
        message:
          `${what.one} \`${parent.name}\`${outer} does not exist in \`${parents.service}\`, so ARM refuses this ${entity ?? 'policy'} (404)` +
          (near ? ` — did you mean \`${near}\`?` : '') +
          `; create the ${what.one} first (or rename this folder to one that exists) — this tool deploys policies, not ${what.many}.`,
      });
      break;
    }
  }
  return problems;
}
