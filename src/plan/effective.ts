/**
 * The policy the gateway runs for an API or an operation: the levels around it composed as APIM
 * composes them. Pure: the documents come from a lookup (the tree, or what was read live).
 *
 * Levels, outermost first: global, the workspace's global (for a workspace API), the product (when
 * one is named), the API, the operation. In each section (inbound, backend, outbound, on-error) a
 * level's `<base />` stands for the enclosing levels' content; a level without `<base />` in a
 * section (or without the section) drops it there. A level with no policy counts as `<base />` only.
 * `<include-fragment>` is replaced by the fragment's content, recursively. Every run of content is
 * preceded by a comment naming the policy or fragment it came from.
 */
import { addressKey, fragmentAddress, parsePolicyAddress, policyAddress, policyFilePath } from '../model/address.js';
import type { Address, PolicyResource, PolicyScope } from '../model/index.js';
import { parentListed, policyParents, type LiveReader } from '../model/live.js';
import { formatPolicy, includedFragments, literalAttribute, parsePolicyDocument, PolicySyntaxError, type PolicyDocument, type XmlElement, type XmlNode } from '../policy-xml/index.js';

export const SECTIONS = ['inbound', 'backend', 'outbound', 'on-error'] as const;

/** An address `effective` cannot compose, a fragment it cannot find, a cycle: the message says which and what to do. */
export class EffectiveError extends Error {}

export interface EffectiveTarget {
  apiId: string;
  operationId?: string;
  workspace?: string;
  productId?: string;
}

/** `apis/a`, `apis/a/operations/o`, their policy addresses, and the same under `workspaces/w/`. */
export function parseEffectiveAddress(address: string): EffectiveTarget {
  const trimmed = address.trim().replace(/^\/+|\/+$/g, '');
  const scope = parsePolicyAddress(trimmed) ?? parsePolicyAddress(`${trimmed}/policies/policy`);
  if (scope?.kind === 'api' || scope?.kind === 'operation') {
    return { apiId: scope.apiId, ...(scope.kind === 'operation' ? { operationId: scope.operationId } : {}), ...(scope.workspace !== undefined ? { workspace: scope.workspace } : {}) };
  }
  throw new EffectiveError(
    `"${address}" names no API: effective composes the policy of an API or an operation; give apis/<api> or apis/<api>/operations/<operation> (under workspaces/<workspace>/ for a workspace's API)`,
  );
}

/** The levels of a target, outermost first. */
export function effectiveLevels(target: EffectiveTarget): Address[] {
  const ws = target.workspace !== undefined ? { workspace: target.workspace } : {};
  const scopes: PolicyScope[] = [{ kind: 'global' }];
  if (target.workspace !== undefined) scopes.push({ kind: 'global', ...ws });
  if (target.productId !== undefined) scopes.push({ kind: 'product', productId: target.productId, ...ws });
  scopes.push({ kind: 'api', apiId: target.apiId, ...ws });
  if (target.operationId !== undefined) scopes.push({ kind: 'operation', apiId: target.apiId, operationId: target.operationId, ...ws });
  return scopes.map(policyAddress);
}

interface Item {
  node: XmlNode;
  origin: Address;
}

export type Lookup = (address: Address) => PolicyDocument | undefined;

const isBlank = (n: XmlNode) => n.type === 'text' && n.segments.every((s) => !s.expression && s.text.trim() === '');
const comment = (text: string): Extract<XmlNode, { type: 'comment' }> => ({ type: 'comment', text: ` ${text.replace(/--/g, '- -')} ` });

/** Nodes from items, with a `from` comment wherever the origin differs from the one before (`current` at the start). */
function materialise(items: Item[], current: Address | undefined): XmlNode[] {
  const out: XmlNode[] = [];
  for (const item of items) {
    if (item.origin !== current) out.push(comment(`from ${item.origin}`));
    current = item.origin;
    out.push(item.node);
  }
  return out;
}

/** `nodes` of the document at `origin` with every literal `include-fragment` replaced by the fragment's content. */
function expand(nodes: XmlNode[], origin: Address, workspace: string | undefined, lookup: Lookup, stack: Address[]): Item[] {
  const out: Item[] = [];
  for (const node of nodes) {
    if (isBlank(node)) continue;
    if (node.type !== 'element' || node.name === 'set-body') {
      out.push({ node, origin });
      continue;
    }
    const id = node.name === 'include-fragment' ? literalAttribute(node, 'fragment-id') : undefined;
    if (id === undefined) {
      out.push({ node: { ...node, children: materialise(expand(node.children, origin, workspace, lookup, stack), origin) }, origin });
      continue;
    }
    const address = fragmentAddress(id, workspace);
    if (stack.some((a) => a.toLowerCase() === address.toLowerCase())) {
      throw new EffectiveError(`fragments include each other: ${[...stack, address].join(' → ')}; APIM refuses such a fragment, so break the cycle`);
    }
    const doc = lookup(address);
    if (!doc) {
      const file = policyFilePath({ kind: 'fragment', fragmentId: id, ...(workspace !== undefined ? { workspace } : {}) });
      throw new EffectiveError(`${origin} (line ${node.line}) includes fragment "${id}", which is not in the tree (${file}); add the fragment or correct fragment-id`);
    }
    out.push(...expand(doc.root.children, address, workspace, lookup, [...stack, address]));
  }
  return out;
}

function section(root: XmlElement, name: string): XmlElement | undefined {
  return root.children.find((c): c is XmlElement => c.type === 'element' && c.name === name);
}

/** The composed policy as text (fmt's layout), with a leading comment naming the levels. */
export function effectivePolicy(target: EffectiveTarget, lookup: Lookup): string {
  const levels = effectiveLevels(target);
  const children: XmlNode[] = [];
  for (const name of SECTIONS) {
    let content: Item[] = [];
    for (const level of levels) {
      const doc = lookup(level);
      if (!doc) continue;
      const own = section(doc.root, name);
      const next: Item[] = [];
      for (const node of own?.children ?? []) {
        if (node.type === 'element' && node.name === 'base') next.push(...content);
        else next.push(...expand([node], level, target.workspace, lookup, []));
      }
      content = next;
    }
    children.push({ type: 'element', name, attributes: [], children: materialise(content, undefined), line: 0, column: 0 });
  }
  const root: XmlElement = { type: 'element', name: 'policies', attributes: [], children, line: 0, column: 0 };
  const present = levels.map((l) => (lookup(l) ? l : `${l} (none: <base /> only)`));
  const leading = [comment(`effective policy, composed from: ${present.join(' → ')}`)];
  return formatPolicy({ file: 'effective', kind: 'policies', root, leading, trailing: [], unwrapped: false, wellFormed: true });
}

/** A live policy or fragment as a document; one that does not parse is an error naming its address. */
function parseLive(r: PolicyResource): PolicyDocument {
  try {
    return parsePolicyDocument(r.xml, { file: r.address, expect: r.scope.kind === 'fragment' ? 'fragment' : 'policies' });
  } catch (e) {
    if (e instanceof PolicySyntaxError) throw new EffectiveError(`the live ${r.address} does not parse (${e.message}); effective composes only what parses`);
    throw e;
  }
}

/**
 * The documents `effective --live` composes, read from the instance: first the levels of the
 * target (one scoped read, whose parent check says whether the workspace, product, API and
 * operation exist), then the fragments they include, round by round until no new one is named.
 * A missing parent or fragment is an error naming it; a level without a policy counts as <base />.
 */
export async function readEffectiveLive(reader: LiveReader, target: EffectiveTarget, service: string): Promise<Lookup> {
  const docs = new Map<string, PolicyDocument>();
  const spelled = new Map<string, Address>();
  const levels = effectiveLevels(target);
  const first = await reader.read({ addresses: levels });
  if (first.parents) {
    const deepest = levels[levels.length - 1]!;
    const product = target.productId !== undefined ? levels.find((l) => parsePolicyAddress(l)?.kind === 'product') : undefined;
    const parents = [...policyParents(deepest), ...(product ? policyParents(product).filter((p) => p.kind === 'product') : [])];
    for (const parent of parents) {
      if (parentListed(first.parents, parent) !== false) continue;
      throw new EffectiveError(`the instance ${service} has no ${parent.kind} "${parent.name}" (${parent.collection}/${parent.name}); give the address of one it has`);
    }
  }
  for (const r of first.state.resources.values()) {
    docs.set(addressKey(r.address), parseLive(r));
    spelled.set(addressKey(r.address), r.address);
  }
  const includer = new Map<string, { origin: Address; line: number; id: string }>();
  let pending = [...docs.entries()];
  while (pending.length) {
    const wanted = new Map<string, Address>();
    for (const [key, doc] of pending) {
      for (const { fragmentId, element } of includedFragments(doc.root)) {
        const address = fragmentAddress(fragmentId, target.workspace);
        const k = addressKey(address);
        if (docs.has(k) || wanted.has(k)) continue;
        wanted.set(k, address);
        includer.set(k, { origin: key, line: element.line, id: fragmentId });
      }
    }
    if (!wanted.size) break;
    const addresses = [...wanted.values()];
    const read = await reader.read({ addresses, referenced: addresses });
    const found = new Map([...(read.referenced?.resources.values() ?? []), ...read.state.resources.values()].map((r) => [addressKey(r.address), r]));
    pending = [];
    for (const [k, address] of wanted) {
      const r = found.get(k);
      if (!r) {
        const by = includer.get(k)!;
        throw new EffectiveError(
          `live ${spelled.get(by.origin) ?? by.origin} (line ${by.line}) includes fragment "${by.id}", which the instance ${service} does not have (${address}); create the fragment or correct fragment-id`,
        );
      }
      const doc = parseLive(r);
      docs.set(k, doc);
      spelled.set(k, r.address);
      pending.push([k, doc]);
    }
  }
  return (address) => docs.get(addressKey(address));
}
