/**
 * A saved plan is applied exactly as reviewed, or not at all.
 *
 * `sealPlan` gives every change the hashes of what apply acts on (`content`: address, action, the
 * exact content it writes, the live ETag it writes against) and of the diff a reviewer read
 * (`diff`), and the plan a hash over all of it (`integrity`). `verifyPlan` recomputes them from
 * the plan itself: the canonical hash from `desired.xml`, each change's hashes, the plan's. A plan
 * file edited by hand (content, diff, target, a change added or removed) is refused, naming the
 * address. This stops mistakes and edits that do not recompute the hashes; someone who can rewrite
 * the file and every hash is stopped only by planning again (see the README, "Safety").
 */
import { createHash } from 'node:crypto';
import { parsePolicyAddress } from '../model/address.js';
import { isEntityKind, isPolicyKind } from '../model/kinds.js';
import type { Address, Change, Plan } from '../model/index.js';
import { canonicalize, parsePolicyDocument } from '../policy-xml/index.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

/** JSON with object keys sorted and undefined members left out: the same text for the same data, before and after a file round trip. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : stableJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(record[k])}`).join(',')}}`;
}

/** Everything apply acts on for one change; display-only fields (file, line, diff) are not in it. */
export function contentHash(c: Change): string {
  const { address, action, resourceType, desired, live, identity, roleAssignment, destructive } = c;
  return hash(stableJson({ address, action, resourceType, desired, live, identity, roleAssignment, destructive }));
}

/** The diff a reviewer read, with its line counts. */
export function diffHash(c: Change): string {
  return hash(stableJson({ diff: c.diff ?? '', added: c.added, removed: c.removed }));
}

/** The whole plan but its own integrity field. */
export function planHash(plan: Plan): string {
  const { integrity: _ignored, ...rest } = plan;
  return hash(stableJson(rest));
}

/** Sets every change's hashes and the plan's integrity hash; call again after changing a plan. */
export function sealPlan(plan: Plan): Plan {
  for (const c of plan.changes) c.hashes = { content: contentHash(c), diff: diffHash(c) };
  plan.integrity = planHash(plan);
  return plan;
}

export const isPolicyChange = (c: Change) => isPolicyKind(c.resourceType);
/** A named value or backend change. */
export const isEntityChange = (c: Change) => isEntityKind(c.resourceType);

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return !!v && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** The canonical hash of a policy document as compute.ts makes it, or the parse error. */
export function canonicalHashOf(address: Address, xml: string): { sha256?: string; error?: string } {
  try {
    const expect = parsePolicyAddress(address)?.kind === 'fragment' ? 'fragment' : 'policies';
    return { sha256: hash(canonicalize(parsePolicyDocument(xml, { file: address, expect }))) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The message for a plan of another tool version, or undefined when it is this one's. */
export function toolMismatch(plan: Pick<Plan, 'tool'>): string | undefined {
  const tool = plan.tool;
  if (tool?.name === TOOL_NAME && tool.version === TOOL_VERSION) return undefined;
  const made = tool?.name || tool?.version ? `${tool.name ?? 'an unknown tool'} ${tool.version ?? '(no version)'}` : 'an unknown tool';
  return `this plan was made by ${made}; this is ${TOOL_NAME} ${TOOL_VERSION}: plan again with this version and apply that plan`;
}

export interface Tampered {
  /** Each reason, naming the address (or the plan as a whole). */
  reasons: string[];
  addresses: Address[];
}

/**
 * Why the plan is not as plan wrote it, or an empty list. Checks, in order: the tool version; per
 * change, the live ETag (update or delete of a policy), the canonical hash of `desired.xml`, the
 * content hash and the diff hash; then the plan's integrity hash (a change added or removed).
 */
export function verifyPlan(plan: Plan): Tampered {
  const out: Tampered = { reasons: [], addresses: [] };
  const tool = toolMismatch(plan);
  if (tool) return { reasons: [tool], addresses: [] };
  const flag = (address: Address, why: string) => {
    out.reasons.push(`${address}: ${why}`);
    if (!out.addresses.includes(address)) out.addresses.push(address);
  };
  for (const c of plan.changes) {
    if (!c.hashes) {
      flag(c.address, 'the plan carries no hashes for it');
      continue;
    }
    if (isPolicyChange(c) && (c.action === 'update' || c.action === 'delete') && !c.live?.etag) {
      flag(c.address, `the plan has no ETag for the live resource, so apply could not make sure it ${c.action === 'delete' ? 'deletes' : 'writes over'} what was reviewed (If-Match)`);
      continue;
    }
    if (c.desired && isEntityKind(c.resourceType)) {
      // Its hash holds the secrets' marks, made again at apply from the environment (entities.ts).
      if (!isJsonObject(c.desired.xml)) {
        flag(c.address, 'its properties in the plan are not a JSON object');
        continue;
      }
      if (!plan.secrets?.salt) {
        flag(c.address, 'the plan has no salt for the hashes of its secret values (secrets.salt)');
        continue;
      }
    } else if (c.desired) {
      const canonical = canonicalHashOf(c.address, c.desired.xml);
      if (canonical.error !== undefined) {
        flag(c.address, `its content in the plan does not parse (${canonical.error})`);
        continue;
      }
      if (canonical.sha256 !== c.desired.sha256) {
        flag(c.address, 'its content in the plan is not what was planned (the hash of desired.xml differs from desired.sha256)');
        continue;
      }
    }
    if (contentHash(c) !== c.hashes.content) {
      flag(c.address, 'its entry in the plan was edited after plan wrote it (content, target or ETag; the content hash differs)');
      continue;
    }
    if (diffHash(c) !== c.hashes.diff) flag(c.address, 'its diff in the plan is not the one plan wrote (the diff hash differs)');
  }
  if (out.reasons.length) return out;
  if (plan.integrity !== planHash(plan)) {
    out.reasons.push('the plan was edited after plan wrote it: a change was added, removed or reordered, or its target, summary or problems changed (the integrity hash differs)');
  }
  return out;
}

/** Plans found intact, with their hash then: checked again (read, then apply) only if changed since. */
const intact = new WeakMap<Plan, string>();

/** The refusal for a plan that is not as plan wrote it, or undefined. */
export function integrityRefusal(plan: Plan): { message: string; addresses: Address[] } | undefined {
  const whole = `${planHash(plan)} ${plan.integrity}`;
  if (intact.get(plan) === whole) return undefined;
  const { reasons, addresses } = verifyPlan(plan);
  if (!reasons.length) {
    intact.set(plan, whole);
    return undefined;
  }
  return { message: `the plan is not as plan wrote it, so it is not what was reviewed; nothing was written. ${reasons.join('; ')}. Plan again and review that plan.`, addresses };
}
