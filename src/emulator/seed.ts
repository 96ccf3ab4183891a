/**
 * The live state starts as a `LiveSeed` describes (built by the CLI from a tree; see
 * src/model/seed.ts). Every policy is stored as a PUT would store it (APIM-serialised, a fresh
 * ETag each), and the APIs, operations and products the addresses imply are stored too
 * (`apis/{a}`, `apis/{a}/operations/{o}`, `products/{p}` with value `{displayName}`), so the lists
 * show them. Named values and backends are stored with their properties, so reference checks have
 * something to find; the identity and its role assignments as given.
 */
import { addressKey, parsePolicyAddress } from '../model/address.js';
import type { LiveSeed } from '../model/seed.js';
import { seedIdentity } from './arm-rbac.js';
import { storePolicy } from './arm-policies.js';
import type { EmulatorState } from './types.js';

/**
 * The parents ARM has for a policy (address, id): every collection/name pair of its path below the
 * service or its workspace, the policy itself excepted (`apis/a/operations/o/policies/policy` →
 * `apis/a`, `apis/a/operations/o`). A fragment has none.
 */
function impliedEntities(address: string): Array<[string, string]> {
  const scope = parsePolicyAddress(address);
  if (!scope || scope.kind === 'fragment') return [];
  const parts = address.split('/');
  const out: Array<[string, string]> = [];
  for (let i = (scope.workspace !== undefined ? 2 : 0) + 2; i <= parts.length - 2; i += 2) out.push([parts.slice(0, i).join('/'), parts[i - 1]!]);
  return out;
}

/** Stores `seed` in `state`; returns the number of policies stored. Throws on a policy ARM would refuse. */
export function seedState(state: EmulatorState, seed: LiveSeed): { policies: number } {
  let policies = 0;
  const sorted = [...seed.policies].sort((a, b) => (a.address < b.address ? -1 : 1));
  for (const p of sorted) {
    storePolicy(state, p.address, p.xml, p.description);
    policies += 1;
    for (const [address, id] of impliedEntities(p.address)) {
      if (!state.resources.has(addressKey(address))) {
        const rev = /;rev=\d+$/i.exec(id);
        const displayName = rev ? id.slice(0, rev.index) : id;
        state.resources.set(addressKey(address), { address, value: { displayName }, etag: `"${state.nextEtag()}"` });
      }
    }
  }
  for (const [collection, list] of [
    ['namedValues', seed.namedValues],
    ['backends', seed.backends],
  ] as const) {
    for (const { name, properties } of list) {
      const address = `${collection}/${name}`;
      state.resources.set(addressKey(address), { address, value: properties, etag: `"${state.nextEtag()}"` });
    }
  }
  if (seed.identity) seedIdentity(state, seed.identity);
  return { policies };
}
