/**
 * One row per resource kind: where it lives in ARM (its address, the ARM path relative to the
 * service), where it lives in the policies tree, what its content is and when apply writes it.
 * Addresses, the tree loader and writer, the ARM reader and writer, the emulator's seed and the
 * apply order are all made from these rows; nothing else spells an ARM path or a tree path.
 *
 * Patterns are "/"-separated; a `{name}` segment is a parameter (an id), any other is literal.
 * Kinds marked `inWorkspace` exist under a workspace too, at the same pattern behind the one
 * workspace prefix (WORKSPACE_ARM / WORKSPACE_TREE).
 */

export type PolicyKind = 'global' | 'product' | 'api' | 'operation' | 'fragment';
export type ResourceKind = PolicyKind | 'identity' | 'roleAssignment' | 'namedValue' | 'backend';

/** What a resource holds, and so how it is parsed, compared and written. */
export type ContentKind = 'policy-xml' | 'fragment-xml' | 'json-properties' | 'identity';

export interface KindRow {
  kind: ResourceKind;
  /** The address pattern: the ARM path relative to the service (or to a workspace). */
  arm: string;
  /** The fixed ARM name of the resource when it is not an id (`policy` for a scope's policy). */
  armName?: string;
  /** Where the resource is in the tree, relative to its root (or to a workspace's folder); first is the one written. */
  tree?: readonly string[];
  /** The JSON file beside the content that holds its other properties (APIOps's own name). */
  infoFile?: string;
  content: ContentKind;
  /** Apply order: lower first; deletes run in reverse. */
  rank: number;
  inWorkspace: boolean;
  /** Read and planned as a resource of its own. */
  planned: boolean;
}

/** The prefix of every address of a workspace's resource: the only place it is spelled. */
export const WORKSPACE_ARM = 'workspaces/{workspace}';
/** The same in the tree. */
export const WORKSPACE_TREE = 'workspaces/{workspace}';

export const KINDS: readonly KindRow[] = [
  { kind: 'identity', arm: 'identity', tree: ['identity.yaml'], content: 'identity', rank: 0, inWorkspace: false, planned: true },
  { kind: 'roleAssignment', arm: 'roleAssignments/{name}', tree: ['identity.yaml'], content: 'identity', rank: 1, inWorkspace: false, planned: true },
  { kind: 'namedValue', arm: 'namedValues/{namedValueId}', tree: ['named values/{namedValueId}/namedValueInformation.json'], content: 'json-properties', rank: 2, inWorkspace: true, planned: true },
  // After named values: a backend's credentials may name one ({{name}}).
  { kind: 'backend', arm: 'backends/{backendId}', tree: ['backends/{backendId}/backendInformation.json'], content: 'json-properties', rank: 3, inWorkspace: true, planned: true },
  {
    kind: 'fragment',
    arm: 'policyFragments/{fragmentId}',
    tree: ['policy fragments/{fragmentId}/policy.xml', 'policyFragments/{fragmentId}/policy.xml'],
    infoFile: 'policyFragmentInformation.json',
    content: 'fragment-xml',
    rank: 4,
    inWorkspace: true,
    planned: true,
  },
  { kind: 'global', arm: 'policies/policy', armName: 'policy', tree: ['policy.xml'], content: 'policy-xml', rank: 5, inWorkspace: true, planned: true },
  { kind: 'product', arm: 'products/{productId}/policies/policy', armName: 'policy', tree: ['products/{productId}/policy.xml'], content: 'policy-xml', rank: 6, inWorkspace: true, planned: true },
  { kind: 'api', arm: 'apis/{apiId}/policies/policy', armName: 'policy', tree: ['apis/{apiId}/policy.xml'], content: 'policy-xml', rank: 7, inWorkspace: true, planned: true },
  {
    kind: 'operation',
    arm: 'apis/{apiId}/operations/{operationId}/policies/policy',
    armName: 'policy',
    tree: ['apis/{apiId}/operations/{operationId}/policy.xml'],
    content: 'policy-xml',
    rank: 8,
    inWorkspace: true,
    planned: true,
  },
];

const byKind = new Map(KINDS.map((row) => [row.kind, row]));

export function kindRow(kind: ResourceKind): KindRow {
  return byKind.get(kind)!;
}

/** The policy kinds (policies and fragments), in apply order. */
export const POLICY_KINDS: readonly PolicyKind[] = KINDS.filter((r) => r.content === 'policy-xml' || r.content === 'fragment-xml').map((r) => r.kind as PolicyKind);

export function isPolicyKind(kind: string): kind is PolicyKind {
  return (POLICY_KINDS as readonly string[]).includes(kind);
}

/** Kinds whose content is ARM `properties` as JSON (named values, backends), in apply order. */
export type EntityKind = 'namedValue' | 'backend';
export const ENTITY_KINDS: readonly EntityKind[] = KINDS.filter((r) => r.content === 'json-properties').map((r) => r.kind as EntityKind);

export function isEntityKind(kind: string): kind is EntityKind {
  return (ENTITY_KINDS as readonly string[]).includes(kind);
}

/** A kind's apply rank (identity first, operations last); unknown kinds last. */
export function rankOf(kind: string): number {
  return byKind.get(kind as ResourceKind)?.rank ?? KINDS.length;
}

/** The parameters of a pattern, in order (`apis/{apiId}/operations/{operationId}/…` → apiId, operationId). */
export function patternParams(pattern: string): string[] {
  return pattern
    .split('/')
    .filter((s) => s.startsWith('{'))
    .map((s) => s.slice(1, -1));
}

/** The pattern with its parameters filled in; undefined when one is missing. */
export function fillPattern(pattern: string, params: Readonly<Record<string, string | undefined>>): string | undefined {
  const out: string[] = [];
  for (const s of pattern.split('/')) {
    if (!s.startsWith('{')) out.push(s);
    else {
      const value = params[s.slice(1, -1)];
      if (value === undefined) return undefined;
      out.push(value);
    }
  }
  return out.join('/');
}

/** The parameters when `segments` match the pattern (literals compared as `same` says), else undefined. */
export function matchPattern(pattern: string, segments: readonly string[], same: (a: string, b: string) => boolean): Record<string, string> | undefined {
  const p = pattern.split('/');
  if (p.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const s = p[i]!;
    if (s.startsWith('{')) {
      if (segments[i] === '') return undefined;
      params[s.slice(1, -1)] = segments[i]!;
    } else if (!same(s, segments[i]!)) return undefined;
  }
  return params;
}

/** A resource of some kind, located: its kind, its ids and its workspace. */
export interface Located {
  kind: ResourceKind;
  params: Record<string, string>;
  workspace?: string;
}

const caseless = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const exact = (a: string, b: string) => a === b;

function withWorkspace(prefix: string, pattern: string, workspace: string | undefined): { pattern: string; params: Record<string, string> } {
  return workspace === undefined ? { pattern, params: {} } : { pattern: `${prefix}/${pattern}`, params: { workspace } };
}

/**
 * A name of the service or of a workspace, as reference checks key named values and backends:
 * `name`, or the workspace prefix and `name` (lower-cased by the caller when it compares).
 */
export function workspaceQualified(name: string, workspace: string | undefined): string {
  return workspace === undefined ? name : `${fillPattern(WORKSPACE_ARM, { workspace })}/${name}`;
}

/** The address of a located resource; undefined when an id is missing or the kind has no workspace variant. */
export function formatAddress(at: Located): string | undefined {
  const row = kindRow(at.kind);
  if (at.workspace !== undefined && !row.inWorkspace) return undefined;
  const { pattern, params } = withWorkspace(WORKSPACE_ARM, row.arm, at.workspace);
  return fillPattern(pattern, { ...at.params, ...params });
}

/** Which kind and ids an address names (ARM compares names case-insensitively); undefined for anything else. */
export function parseAddress(address: string): Located | undefined {
  return locate(address.split('/'), (row) => [row.arm], WORKSPACE_ARM, caseless);
}

/** The tree file of a located resource (the first of its row's tree paths), relative to the root. */
export function formatTreePath(at: Located): string | undefined {
  const row = kindRow(at.kind);
  if (!row.tree || (at.workspace !== undefined && !row.inWorkspace)) return undefined;
  const { pattern, params } = withWorkspace(WORKSPACE_TREE, row.tree[0]!, at.workspace);
  return fillPattern(pattern, { ...at.params, ...params });
}

/** Which resource a file of the tree holds (its relative path split on "/"); only kinds in `kinds`. Folder names compare exactly. */
export function parseTreePath(parts: readonly string[], kinds: readonly ResourceKind[]): Located | undefined {
  return locate(parts, (row) => (kinds.includes(row.kind) ? (row.tree ?? []) : []), WORKSPACE_TREE, exact);
}

function locate(segments: readonly string[], patterns: (row: KindRow) => readonly string[], prefix: string, same: (a: string, b: string) => boolean): Located | undefined {
  const ws = matchPattern(prefix, segments.slice(0, 2), same);
  // A workspace's resource: the prefix and at least one segment of its own.
  if (ws && segments.length >= 3) {
    const rest = segments.slice(2);
    for (const row of KINDS) {
      if (!row.inWorkspace) continue;
      for (const pattern of patterns(row)) {
        const params = matchPattern(pattern, rest, same);
        if (params) return { kind: row.kind, params, workspace: ws['workspace']! };
      }
    }
    return undefined;
  }
  for (const row of KINDS) {
    for (const pattern of patterns(row)) {
      const params = matchPattern(pattern, segments, same);
      if (params) return { kind: row.kind, params };
    }
  }
  return undefined;
}
