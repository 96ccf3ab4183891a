/**
 * Named values and backends in a plan: desired against live on a canonical JSON form.
 *
 * - Only what the file sets is compared: live is projected onto the desired properties (objects
 *   key by key; arrays and scalars whole), so what ARM fills in (defaults, `keyVault.lastStatus`)
 *   is never a change.
 * - Secret values are compared as keyed hashes (secrets.ts), never shown: a string holding a
 *   `{#TOKEN#}`, and the `value` of a named value with `secret: true`. The live side of a secret
 *   named value's value is ARM's `listValue`; one not read stands as "not readable" (a change).
 * - Apply derives the same canonical forms again from what is live then and from the environment:
 *   a secret that changed between plan and apply, or live that moved, stops it.
 */
import { addressKey } from '../model/address.js';
import type { DesiredEntities, EntityKind, EntityResource, EntityState } from '../model/entities.js';
import type { Change } from '../model/index.js';
import { hasToken, resolveTokens, resolveTokensDeep, tokensOf } from '../model/tokens.js';
import { diffCanonical } from '../policy-xml/index.js';
import { UNREADABLE_SECRET, type SecretHasher } from './secrets.js';
import { sha256 } from './policies.js';
import { stableJson } from './integrity.js';
import { readAgainNote } from './key-vault-reread.js';

type Json = unknown;
type Props = Record<string, Json>;
type Env = Readonly<Record<string, string | undefined>>;

const isObject = (v: Json): v is Props => !!v && typeof v === 'object' && !Array.isArray(v);

/** Whether the value at `path` of a desired entity is secret: it holds a token, or it is a secret named value's value. */
function secretAt(kind: EntityKind, desired: Props, path: string[], raw: Json): boolean {
  if (typeof raw === 'string' && hasToken(raw)) return true;
  return kind === 'namedValue' && path.length === 1 && path[0] === 'value' && desired['secret'] === true;
}

/** The desired side as compared and shown: tokens resolved, secret strings as their marks. */
export function desiredView(kind: EntityKind, props: Props, env: Env, hasher: SecretHasher): Props {
  const walk = (v: Json, path: string[]): Json => {
    if (typeof v === 'string') {
      const resolved = resolveTokens(v, env).text;
      return secretAt(kind, props, path, v) ? hasher.mark(resolved) : resolved;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, String(i)]));
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]));
    return v;
  };
  return walk(props, []) as Props;
}

/**
 * The live side as compared and shown: projected onto `desired` (when there is one), secret
 * strings as their marks (`secret`: a secret named value's value, from listValue).
 */
export function liveView(kind: EntityKind, live: Props, desired: Props | undefined, secret: string | undefined, hasher: SecretHasher): Props {
  if (!desired) return live;
  const walk = (have: Json, want: Json, path: string[]): Json => {
    if (isObject(want) && isObject(have)) {
      const out: Props = {};
      for (const k of Object.keys(want)) {
        const sub = walk(have[k], want[k], [...path, k]);
        if (sub !== undefined) out[k] = sub;
      }
      return out;
    }
    if (secretAt(kind, desired, path, want)) {
      const namedValueSecret = kind === 'namedValue' && path.length === 1 && path[0] === 'value' && desired['secret'] === true;
      const value = namedValueSecret ? (secret ?? (typeof have === 'string' ? have : undefined)) : have;
      if (typeof value === 'string') return hasher.mark(value);
      // Live lacks the property: shown as missing. A secret named value always has a value: not read.
      if ((have === undefined || have === null) && !namedValueSecret) return undefined;
      return UNREADABLE_SECRET;
    }
    return have;
  };
  return walk(live, desired, []) as Props;
}

/** The canonical text of a view: JSON with sorted keys, two-space indent, one property a line. */
export function entityCanonical(view: Props): string {
  return `${JSON.stringify(JSON.parse(stableJson(view)), null, 2)}\n`;
}

/** The secret paths whose marks differ between two views (both set): "secret value changed". */
function changedSecrets(before: Props, after: Props): string[] {
  const out: string[] = [];
  const walk = (a: Json, b: Json, path: string[]) => {
    if (isObject(a) && isObject(b)) {
      for (const k of Object.keys(b)) walk(a[k], b[k], [...path, k]);
    } else if (typeof a === 'string' && typeof b === 'string' && a !== b && a.startsWith('(secret ') && b.startsWith('(secret ')) out.push(path.join('.'));
  };
  walk(before, after, []);
  return out;
}

/** The diff a reviewer reads for a named value or backend; apply derives it again the same way. */
export function entityDiff(address: string, before: Props | undefined, after: Props | undefined) {
  const b = before ? entityCanonical(before) : '';
  const a = after ? entityCanonical(after) : '';
  let { patch, added, removed, replaced } = diffCanonical(b, a, `live/${address}`, `desired/${address}`);
  if (before && after) for (const path of changedSecrets(before, after)) patch += `secret value changed: ${path}\n`;
  return { patch, added, removed, ...(replaced ? { replaced } : {}), before: b, after: a };
}

/** The properties as a plan file carries them: the tree's, tokens unresolved. */
export const entityContent = (props: Props): string => `${JSON.stringify(props, null, 2)}\n`;

export interface EntitySecrets {
  /** The tokens' values (desired side). */
  env: Env;
  /** Secret named values' live values by address key (listValue). */
  live?: ReadonlyMap<string, string>;
  hasher: SecretHasher;
}

/**
 * Compares the desired named values and backends with live, for the kinds the tree manages only.
 * Changes are not sorted (computePlan orders the whole plan).
 */
export function compareEntities(desired: DesiredEntities, live: EntityState, secrets: EntitySecrets, readAgain: ReadonlySet<string> = new Set()): Change[] {
  const out: Change[] = [];
  const keys = new Set<string>();
  for (const [key, r] of desired.resources) if (desired.managed.has(r.kind)) keys.add(key);
  for (const [key, r] of live.resources) if (desired.managed.has(r.kind)) keys.add(key);
  for (const key of keys) {
    const want = desired.resources.get(key);
    const have = live.resources.get(key);
    const r = (want ?? have)!;
    const after = want ? desiredView(r.kind, want.properties, secrets.env, secrets.hasher) : undefined;
    const before = have ? liveView(r.kind, have.properties, want?.properties, secrets.live?.get(key), secrets.hasher) : undefined;
    const d = entityDiff(r.address, before, after);
    let action: Change['action'] = !have ? 'create' : !want ? 'delete' : d.before === d.after ? 'noop' : 'update';
    // Unchanged, but its last Key Vault read failed and this plan grants the access: written again (key-vault-reread.ts).
    const note = action === 'noop' && readAgain.has(key) ? readAgainNote(have!.properties) : undefined;
    if (note) {
      action = 'update';
      d.patch = note;
    }
    const change: Change = { address: r.address, action, resourceType: r.kind };
    if (want?.file) change.file = want.file;
    if (want?.line !== undefined && want.file) change.line = want.line;
    if (action !== 'noop') {
      change.diff = d.patch;
      change.added = d.added;
      change.removed = d.removed;
      if (d.replaced) change.replaced = d.replaced;
    }
    if (want && action !== 'noop') change.desired = { xml: entityContent(want.properties), sha256: sha256(d.after) };
    if (have) {
      change.live = { sha256: sha256(d.before) };
      if (have.etag !== undefined) change.live.etag = have.etag;
    }
    out.push(change);
  }
  return out;
}

/** The secret named values of the desired side that live has (their values are read with listValue). */
export function secretsToRead(desired: DesiredEntities | undefined): string[] {
  if (!desired) return [];
  return [...desired.resources.values()]
    .filter((r) => r.kind === 'namedValue' && desired.managed.has('namedValue') && r.properties['secret'] === true && !isObject(r.properties['keyVault']))
    .map((r) => r.address);
}

/** The workspaces the tree's managed named values and backends belong to. */
export function entityWorkspaces(desired: DesiredEntities | undefined): string[] {
  if (!desired) return [];
  return [...new Set([...desired.resources.values()].filter((r) => r.workspace !== undefined && desired.managed.has(r.kind)).map((r) => r.workspace!))];
}

/** A desired change's properties as apply writes them: tokens resolved from `env`; `missing` names those it lacks. */
export function resolvedContent(change: Change, env: Env): { props: Props; missing: string[]; tokens: string[] } {
  const raw = JSON.parse(change.desired!.xml) as Props;
  const missing: string[] = [];
  const props = resolveTokensDeep(raw, env, missing);
  return { props, missing, tokens: tokensOf(raw) };
}

/** Properties ARM sets itself and refuses or ignores in a PUT body. */
const READ_ONLY: Readonly<Record<EntityKind, string[][]>> = { namedValue: [['keyVault', 'lastStatus']], backend: [] };

function withoutReadOnly(kind: EntityKind, props: Props): Props {
  const out = structuredClone(props);
  for (const path of READ_ONLY[kind]) {
    let at: Json = out;
    for (const k of path.slice(0, -1)) at = isObject(at) ? at[k] : undefined;
    if (isObject(at)) delete at[path[path.length - 1]!];
  }
  return out;
}

/**
 * The body apply PUTs: for an update, live's properties with the file's laid over them (objects
 * merged key by key), so what the file does not set stays as it is live — the plan compared only
 * what the file sets, and writes only that. For a create, the file's.
 */
export function entityWriteBody(kind: EntityKind, live: Props | undefined, desired: Props): Props {
  if (!live) return desired;
  const merge = (a: Json, b: Json): Json => {
    if (isObject(a) && isObject(b)) {
      const out: Props = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
      return out;
    }
    return b;
  };
  const base = withoutReadOnly(kind, live);
  // A secret's value is never in a read; the file always sets it for a secret it manages.
  return merge(base, desired) as Props;
}

/** An entity of a state by address. */
export const entityAt = (state: EntityState | undefined, address: string): EntityResource | undefined => state?.resources.get(addressKey(address));
