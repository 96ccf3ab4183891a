/**
 * The kinds table: every row's address and tree path are made and read back by the same row, in
 * and out of a workspace, and the apply order follows the rows' ranks.
 */
import { policyAddress, parsePolicyAddress, policyFilePath } from '../../src/model/address.js';
import { formatAddress, formatTreePath, KINDS, parseAddress, parseTreePath, patternParams, POLICY_KINDS, rankOf, type Located } from '../../src/model/kinds.js';
import type { PolicyScope } from '../../src/model/index.js';

const sample = (kind: Located['kind']): Record<string, string> => Object.fromEntries(patternParams(KINDS.find((r) => r.kind === kind)!.arm).map((p, i) => [p, `${p}-${i};rev=2`]));

describe('kinds table', () => {
  for (const row of KINDS) {
    for (const workspace of row.inWorkspace ? [undefined, 'w1'] : [undefined]) {
      const at: Located = { kind: row.kind, params: sample(row.kind), ...(workspace ? { workspace } : {}) };
      test(`${row.kind}${workspace ? ' in a workspace' : ''}: address and tree path round-trip`, () => {
        const address = formatAddress(at)!;
        expect(parseAddress(address)).toEqual(at);
        // ARM names are case-insensitive: the upper-cased address names the same kind.
        expect(parseAddress(address.toUpperCase())?.kind).toBe(row.kind);
        // A file that holds one resource names it; identity.yaml holds the identity and every role assignment.
        if (row.tree && patternParams(row.tree[0]!).length === patternParams(row.arm).length) {
          const path = formatTreePath(at)!;
          expect(parseTreePath(path.split('/'), [row.kind])).toEqual(at);
        }
      });
    }
  }

  test('the workspace prefix is the same for every kind that has one, and none for those that do not', () => {
    expect(formatAddress({ kind: 'api', params: { apiId: 'a' }, workspace: 'w' })).toBe('workspaces/w/apis/a/policies/policy');
    expect(formatAddress({ kind: 'namedValue', params: { namedValueId: 'n' }, workspace: 'w' })).toBe('workspaces/w/namedValues/n');
    expect(formatAddress({ kind: 'identity', params: {}, workspace: 'w' })).toBeUndefined();
    expect(parseAddress('workspaces/w/identity')).toBeUndefined();
  });

  test('policy scopes: the addresses and files the README documents', () => {
    const cases: Array<[PolicyScope, string, string]> = [
      [{ kind: 'global' }, 'policies/policy', 'policy.xml'],
      [{ kind: 'api', apiId: 'echo' }, 'apis/echo/policies/policy', 'apis/echo/policy.xml'],
      [{ kind: 'operation', apiId: 'echo', operationId: 'get' }, 'apis/echo/operations/get/policies/policy', 'apis/echo/operations/get/policy.xml'],
      [{ kind: 'product', productId: 'starter' }, 'products/starter/policies/policy', 'products/starter/policy.xml'],
      [{ kind: 'fragment', fragmentId: 'auth' }, 'policyFragments/auth', 'policy fragments/auth/policy.xml'],
      [{ kind: 'api', apiId: 'a', workspace: 'w1' }, 'workspaces/w1/apis/a/policies/policy', 'workspaces/w1/apis/a/policy.xml'],
    ];
    for (const [scope, address, file] of cases) {
      expect(policyAddress(scope)).toBe(address);
      expect(parsePolicyAddress(address)).toEqual(scope);
      expect(policyFilePath(scope)).toBe(file);
    }
    // apiops-cli's folder name for fragments is read too.
    expect(parseTreePath(['policyFragments', 'auth', 'policy.xml'], POLICY_KINDS)).toEqual({ kind: 'fragment', params: { fragmentId: 'auth' } });
    expect(parsePolicyAddress('identity')).toBeUndefined();
    expect(parsePolicyAddress('apis//policies/policy')).toBeUndefined();
  });

  test('apply order: identity, role assignments, fragments, global, product, API, operation', () => {
    const order = ['identity', 'roleAssignment', 'fragment', 'global', 'product', 'api', 'operation'];
    expect([...order].sort((a, b) => rankOf(a) - rankOf(b))).toEqual(order);
    expect(POLICY_KINDS).toEqual(['fragment', 'global', 'product', 'api', 'operation']);
  });
});
