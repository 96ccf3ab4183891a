/**
 * What apply checks and writes for a named value or backend (plan/apply.ts calls these for the
 * entity changes of a plan): live still as the plan saw it, the secrets in the environment the ones
 * planned, the diff reviewed the diff of what it writes; and the body it PUTs.
 */
import type { EntityKind } from '../model/entities.js';
import type { Change, LiveCopy } from '../model/index.js';
import { isEntityKind, parseAddress } from '../model/kinds.js';
import { tokenText, tokensOf } from '../model/tokens.js';
import { desiredView, entityDiff, entityWriteBody, liveView, resolvedContent } from './entities.js';
import { sha256 } from './policies.js';
import type { SecretHasher } from './secrets.js';
import { readAgainNote } from './key-vault-reread.js';

type Env = Readonly<Record<string, string | undefined>>;
type Props = Record<string, unknown>;

const parseProps = (text: string): Props => JSON.parse(text) as Props;

/** Every `{#TOKEN#}` name the named values and backends a plan writes use. */
export function planTokens(plan: { changes: Change[] }): string[] {
  return [...new Set(plan.changes.filter((c) => isEntityKind(c.resourceType) && c.desired).flatMap((c) => tokensOf(JSON.parse(c.desired!.xml))))];
}

/** Tokens a plan's entity changes need from the environment and lack: `[address, token]`. */
export function missingTokens(changes: Change[], env: Env): Array<{ address: string; token: string }> {
  const out: Array<{ address: string; token: string }> = [];
  for (const c of changes) {
    if (!isEntityKind(c.resourceType) || c.action === 'delete' || !c.desired) continue;
    for (const token of resolvedContent(c, env).missing) out.push({ address: c.address, token });
  }
  return out;
}

export interface EntityCheck {
  /** Why live is not what the plan saw. */
  drift?: string;
  /** Why the environment's secrets are not those planned. */
  stale?: string;
  /** The diff in the plan is not the diff of live now and what apply writes. */
  misdiffed?: boolean;
}

/** Checks one entity change against what is live now (`now`, read just before). */
export function checkEntity(change: Change, now: LiveCopy | undefined, env: Env, hasher: SecretHasher): EntityCheck {
  const kind = change.resourceType as EntityKind;
  if (change.action === 'create' && now) return { drift: `${change.address} was created live since the plan` };
  if (change.action !== 'create' && !now) return { drift: `${change.address} was deleted live since the plan` };
  const resolved = change.action === 'delete' ? undefined : resolvedContent(change, env);
  const wantRaw = change.desired ? parseProps(change.desired.xml) : undefined;
  const before = now ? liveView(kind, parseProps(now.xml), wantRaw, now.secret, hasher) : undefined;
  const after = wantRaw ? desiredView(kind, wantRaw, env, hasher) : undefined;
  const d = entityDiff(change.address, before, after);
  if (change.live && sha256(d.before) !== change.live.sha256) return { drift: `${change.address} was changed live since the plan` };
  if (change.desired && sha256(d.after) !== change.desired.sha256) {
    const tokens = resolved?.tokens.map(tokenText).join(', ') || 'its values';
    return { stale: `${change.address}: the values of ${tokens} in this run's environment are not those the plan was made with (a secret rotated or set differently since the plan)` };
  }
  // An unchanged Key Vault value written again: its one line comes from what live says of its last read.
  const patch = change.action === 'update' && d.before === d.after && now ? (readAgainNote(parseProps(now.xml)) ?? d.patch) : d.patch;
  if (patch !== (change.diff ?? '') || d.added !== (change.added ?? 0) || d.removed !== (change.removed ?? 0)) return { misdiffed: true };
  return {};
}

/** The JSON apply PUTs for a create or update: the file's properties, tokens resolved, over live's (see entityWriteBody). */
export function entityBody(change: Change, now: LiveCopy | undefined, env: Env): string {
  const kind = change.resourceType as EntityKind;
  return JSON.stringify(entityWriteBody(kind, now ? parseProps(now.xml) : undefined, resolvedContent(change, env).props));
}

/**
 * The JSON that puts an entity back as a read had it: a secret named value's value comes from
 * `secret` (what this run read with listValue, held in memory only); without it a secret cannot be
 * put back, and the reason is returned instead.
 */
export function entityRestoreBody(address: string, xml: string, secret: string | undefined): { body: string } | { refuse: string } {
  const kind = parseAddress(address)?.kind as EntityKind;
  const props = entityWriteBody(kind, parseProps(xml), {});
  if (kind === 'namedValue' && props['secret'] === true && !props['keyVault'] && typeof props['value'] !== 'string') {
    if (secret === undefined) {
      return {
        refuse:
          'a secret named value’s value is never kept in a snapshot file, so it cannot be put back from one; set it again by planning and applying it with its {#TOKEN#} (the value it had is the one in your secret store)',
      };
    }
    props['value'] = secret;
  }
  return { body: JSON.stringify(props) };
}

/** Whether a write that met 412 has landed anyway: live shows exactly what the plan writes. */
export function entityLanded(change: Change, now: LiveCopy | undefined, env: Env, hasher: SecretHasher): boolean {
  if (change.action === 'delete') return !now;
  if (!now || !change.desired) return false;
  const kind = change.resourceType as EntityKind;
  const want = parseProps(change.desired.xml);
  const d = entityDiff(change.address, liveView(kind, parseProps(now.xml), want, now.secret, hasher), desiredView(kind, want, env, hasher));
  return d.before === d.after;
}
