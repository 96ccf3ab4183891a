import type { Address, PolicyScope, PolicyScopeKind } from './index.js';

/** The ARM path of a scope's policy relative to the service: the name plans and errors use. */
export function policyAddress(scope: PolicyScope): Address {
  const ws = scope.workspace ? `workspaces/${scope.workspace}/` : '';
  switch (scope.kind) {
    case 'global':
      return `${ws}policies/policy`;
    case 'product':
      return `${ws}products/${scope.productId}/policies/policy`;
    case 'api':
      return `${ws}apis/${scope.apiId}/policies/policy`;
    case 'operation':
      return `${ws}apis/${scope.apiId}/operations/${scope.operationId}/policies/policy`;
    case 'fragment':
      return `${ws}policyFragments/${scope.fragmentId}`;
  }
}

/** Inverse of `policyAddress`; undefined for anything that is not a policy address. */
export function parsePolicyAddress(address: Address): PolicyScope | undefined {
  const m = /^(?:workspaces\/([^/]+)\/)?(.*)$/i.exec(address)!;
  const workspace = m[1] ? { workspace: m[1] } : {};
  const rest = m[2]!;
  let r: RegExpExecArray | null;
  if (/^policies\/policy$/i.test(rest)) return { kind: 'global', ...workspace };
  if ((r = /^products\/([^/]+)\/policies\/policy$/i.exec(rest))) return { kind: 'product', productId: r[1]!, ...workspace };
  if ((r = /^apis\/([^/]+)\/policies\/policy$/i.exec(rest))) return { kind: 'api', apiId: r[1]!, ...workspace };
  if ((r = /^apis\/([^/]+)\/operations\/([^/]+)\/policies\/policy$/i.exec(rest))) {
    return { kind: 'operation', apiId: r[1]!, operationId: r[2]!, ...workspace };
  }
  if ((r = /^policyFragments\/([^/]+)$/i.exec(rest))) return { kind: 'fragment', fragmentId: r[1]!, ...workspace };
  return undefined;
}

/** Apply order: what others reference goes first (fragments before the policies that include them). */
export const SCOPE_ORDER: readonly PolicyScopeKind[] = ['fragment', 'global', 'product', 'api', 'operation'];

/** ARM names are case-insensitive: two addresses that differ only in case are one resource. */
export function addressKey(address: Address): string {
  return address.toLowerCase();
}
