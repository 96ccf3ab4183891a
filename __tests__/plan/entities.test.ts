/**
 * Named values and backends in plan and apply, through the LiveWriter port with an in-memory
 * instance (the ARM side is tested against the emulator elsewhere): what is compared, how secrets
 * are compared without being shown, the apply order, and what apply refuses.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressKey } from '../../src/model/address.js';
import type { DesiredEntities, EntityResource, EntityState } from '../../src/model/entities.js';
import { PreconditionFailed } from '../../src/model/live-errors.js';
import type { LiveCopy, LiveWriter, Plan, PolicyResource } from '../../src/model/index.js';
import { applyPlan } from '../../src/plan/apply.js';
import { computePlan } from '../../src/plan/compute.js';
import { verifyPlan } from '../../src/plan/integrity.js';
import { policy } from '../helpers/tree.js';

const SECRET = 'hunter2-very-secret-value';
const ROTATED = 'rotated-secret-value-42';

function entity(kind: 'namedValue' | 'backend', id: string, properties: Record<string, unknown>, file?: string): EntityResource {
  const address = `${kind === 'namedValue' ? 'namedValues' : 'backends'}/${id}`;
  return { type: 'entity', kind, address, id, properties, ...(file ? { file, line: 2 } : {}) };
}
const state = (...rs: EntityResource[]): EntityState => ({ resources: new Map(rs.map((r) => [addressKey(r.address), r])) });
const desiredOf = (...rs: EntityResource[]): DesiredEntities => ({ ...state(...rs), managed: new Set(['namedValue', 'backend']) });

/** An instance in memory: entities as ARM keeps them (a secret's value apart, as listValue gives it), with ETags. */
class MemoryInstance implements LiveWriter {
  entities = new Map<string, { props: Record<string, unknown>; etag: string }>();
  writes: string[] = [];
  failOn?: string;
  private n = 0;
  set(address: string, props: Record<string, unknown>) {
    this.entities.set(addressKey(address), { props, etag: `"e${++this.n}"` });
  }
  async read(address: string): Promise<LiveCopy | undefined> {
    const e = this.entities.get(addressKey(address));
    if (!e) return undefined;
    const { value, ...rest } = e.props;
    const secret = e.props['secret'] === true;
    return { address, xml: JSON.stringify(secret ? rest : e.props), etag: e.etag, ...(secret && typeof value === 'string' ? { secret: value } : {}) };
  }
  async put(address: string, content: string, options: { ifMatch?: string }) {
    if (this.failOn === address) throw new Error(`HTTP 400 for ${address}`);
    const e = this.entities.get(addressKey(address));
    if (options.ifMatch && e?.etag !== options.ifMatch) throw new PreconditionFailed(address);
    this.writes.push(`put ${address}`);
    this.set(address, JSON.parse(content) as Record<string, unknown>);
    return { etag: this.entities.get(addressKey(address))!.etag };
  }
  async remove(address: string, ifMatch: string) {
    const e = this.entities.get(addressKey(address));
    if (ifMatch !== '*' && e?.etag !== ifMatch) throw new PreconditionFailed(address);
    this.writes.push(`delete ${address}`);
    this.entities.delete(addressKey(address));
  }
  liveState(): { entities: EntityState; secrets: Map<string, string> } {
    const rs: EntityResource[] = [];
    const secrets = new Map<string, string>();
    for (const [key, e] of this.entities) {
      const [collection, id] = key.split('/');
      const { value, ...rest } = e.props;
      if (e.props['secret'] === true && typeof value === 'string') secrets.set(key, value);
      rs.push(entity(collection === 'namedvalues' ? 'namedValue' : 'backend', id!, e.props['secret'] === true ? rest : e.props));
    }
    return { entities: state(...rs), secrets };
  }
}

const source = { kind: 'azure' as const, serviceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim', armEndpoint: 'https://arm', fingerprint: 'fp' };
const noPolicies = { state: { resources: new Map<string, PolicyResource>() } };

function plan(instance: MemoryInstance, desired: DesiredEntities, env: Record<string, string>): Plan {
  const live = instance.liveState();
  return computePlan(
    { ...noPolicies, entities: desired, secrets: new Map(Object.entries(env)) },
    { ...noPolicies, entities: live.entities, entitySecrets: live.secrets },
    { source, secretSalt: 'a1b2c3d4' },
  );
}
const snapshotFile = () => join(mkdtempSync(join(tmpdir(), 'entities-')), 'snapshot.json');
const apply = (p: Plan, instance: MemoryInstance, env: Record<string, string>, allowDeletes = false) =>
  applyPlan(JSON.parse(JSON.stringify(p)) as Plan, instance, { targetFingerprint: 'fp', allowDeletes, snapshotFile: snapshotFile(), env });

const ordersKey = (value = '{#ORDERS_KEY#}') => entity('namedValue', 'orders-key', { displayName: 'orders-key', value, secret: true }, 'named values/orders-key/namedValueInformation.json');
const backend = (url: string) => entity('backend', 'orders', { url, protocol: 'http' }, 'backends/orders/backendInformation.json');

describe('named values and backends are planned on what the file sets', () => {
  test('defaults ARM fills in are not a change; a property the file sets is', () => {
    const live = new MemoryInstance();
    live.set('backends/orders', { url: 'https://orders.example', protocol: 'http', tls: { validateCertificateChain: true, validateCertificateName: true } });
    const same = plan(live, desiredOf(backend('https://orders.example')), {});
    expect(same.summary).toEqual({ create: 0, update: 0, delete: 0, unchanged: 1 });
    const changed = plan(live, desiredOf(backend('https://orders-v2.example')), {});
    expect(changed.changes[0]).toMatchObject({ address: 'backends/orders', action: 'update', resourceType: 'backend' });
    expect(changed.changes[0]!.diff).toContain('-  "url": "https://orders.example"');
    expect(changed.changes[0]!.diff).toContain('+  "url": "https://orders-v2.example"');
    expect(changed.changes[0]!.diff).not.toContain('validateCertificateChain');
  });

  test('a secret is compared as a keyed hash: same value no change, another "secret value changed"; the value is nowhere in the plan', () => {
    const live = new MemoryInstance();
    live.set('namedValues/orders-key', { displayName: 'orders-key', value: SECRET, secret: true });
    const same = plan(live, desiredOf(ordersKey()), { ORDERS_KEY: SECRET });
    expect(same.summary.unchanged).toBe(1);
    const rotated = plan(live, desiredOf(ordersKey()), { ORDERS_KEY: ROTATED });
    const c = rotated.changes[0]!;
    expect(c.action).toBe('update');
    expect(c.diff).toContain('secret value changed: value');
    const text = JSON.stringify(rotated);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(ROTATED);
    expect(c.desired!.xml).toContain('{#ORDERS_KEY#}');
    expect(rotated.secrets?.salt).toBe('a1b2c3d4');
    expect(verifyPlan(rotated).reasons).toEqual([]);
  });

  test('the apply order is named values → backends → fragments → policies; deletes after, in reverse', () => {
    const live = new MemoryInstance();
    live.set('namedValues/old', { displayName: 'old', value: 'x' });
    live.set('backends/old', { url: 'https://old.example', protocol: 'http' });
    const p = computePlan(
      {
        state: { resources: new Map([['policies/policy', { type: 'policy', address: 'policies/policy', scope: { kind: 'global' }, xml: policy('<base />') } as PolicyResource]]) },
        entities: desiredOf(backend('https://o.example'), ordersKey('plain')),
      },
      { ...noPolicies, entities: live.liveState().entities },
      { source, secretSalt: 'a1' },
    );
    expect(p.changes.map((c) => `${c.action} ${c.address}`)).toEqual([
      'create namedValues/orders-key',
      'create backends/orders',
      'create policies/policy',
      'delete backends/old',
      'delete namedValues/old',
    ]);
  });

  test('a kind the tree has no folder for is left alone', () => {
    const live = new MemoryInstance();
    live.set('namedValues/old', { displayName: 'old', value: 'x' });
    const p = computePlan({ ...noPolicies, entities: { ...state(backend('https://o.example')), managed: new Set(['backend']) } }, { ...noPolicies, entities: live.liveState().entities }, { source });
    expect(p.changes.map((c) => `${c.action} ${c.address}`)).toEqual(['create backends/orders']);
  });
});

describe('apply writes named values and backends exactly as planned', () => {
  test('create and update with the secret from the environment; re-plan clean; the snapshot holds no secret', async () => {
    const live = new MemoryInstance();
    live.set('namedValues/orders-key', { displayName: 'orders-key', value: SECRET, secret: true });
    live.set('backends/orders', { url: 'https://orders.example', protocol: 'http', description: 'kept' });
    const desired = desiredOf(ordersKey(), backend('https://orders-v2.example'), entity('namedValue', 'plain', { displayName: 'plain', value: 'v' }));
    const p = plan(live, desired, { ORDERS_KEY: ROTATED });
    const result = await apply(p, live, { ORDERS_KEY: ROTATED });
    expect(result.ok).toBe(true);
    expect(live.writes).toEqual(['put namedValues/orders-key', 'put namedValues/plain', 'put backends/orders']);
    expect(live.entities.get('namedvalues/orders-key')!.props['value']).toBe(ROTATED);
    // What the file does not set stays as it is live.
    expect(live.entities.get('backends/orders')!.props).toEqual({ url: 'https://orders-v2.example', protocol: 'http', description: 'kept' });
    expect(readFileSync(result.snapshotFile!, 'utf8')).not.toContain(SECRET);
    expect(plan(live, desired, { ORDERS_KEY: ROTATED }).summary).toMatchObject({ create: 0, update: 0, delete: 0 });
  });

  test('a secret that differs at apply from the one planned stops the apply before any write', async () => {
    const live = new MemoryInstance();
    live.set('namedValues/orders-key', { displayName: 'orders-key', value: SECRET, secret: true });
    const p = plan(live, desiredOf(ordersKey()), { ORDERS_KEY: ROTATED });
    await expect(apply(p, live, { ORDERS_KEY: 'something-else' })).rejects.toThrow(/\{#ORDERS_KEY#\}.*not those the plan was made with/);
    await expect(apply(p, live, {})).rejects.toThrow(/set the environment variable ORDERS_KEY/);
    expect(live.writes).toEqual([]);
  });

  test('live changed since the plan (its secret too) stops the apply', async () => {
    const live = new MemoryInstance();
    live.set('namedValues/orders-key', { displayName: 'orders-key', value: SECRET, secret: true });
    const p = plan(live, desiredOf(ordersKey()), { ORDERS_KEY: ROTATED });
    live.set('namedValues/orders-key', { displayName: 'orders-key', value: 'changed-in-the-portal', secret: true });
    await expect(apply(p, live, { ORDERS_KEY: ROTATED })).rejects.toThrow(/namedValues\/orders-key was changed live since the plan/);
    expect(live.writes).toEqual([]);
  });

  test('a failed write puts back what was written, a secret with the value read before (memory, not the file)', async () => {
    const live = new MemoryInstance();
    live.set('namedValues/orders-key', { displayName: 'orders-key', value: SECRET, secret: true });
    const p = plan(live, desiredOf(ordersKey(), backend('https://orders.example')), { ORDERS_KEY: ROTATED });
    live.failOn = 'backends/orders';
    const result = await apply(p, live, { ORDERS_KEY: ROTATED });
    expect(result.ok).toBe(false);
    expect(result.restored).toEqual([expect.objectContaining({ address: 'namedValues/orders-key', ok: true })]);
    expect(live.entities.get('namedvalues/orders-key')!.props['value']).toBe(SECRET);
    expect(readFileSync(result.snapshotFile!, 'utf8')).not.toContain(SECRET);
  });

  test('deletes only with allow-deletes', async () => {
    const live = new MemoryInstance();
    live.set('backends/old', { url: 'https://old.example', protocol: 'http' });
    const p = plan(live, desiredOf(), {});
    expect(p.changes.map((c) => c.action)).toEqual(['delete']);
    const kept = await apply(p, live, {});
    expect(kept.skippedDeletes.map((c) => c.address)).toEqual(['backends/old']);
    expect(live.entities.has('backends/old')).toBe(true);
    await apply(p, live, {}, true);
    expect(live.entities.has('backends/old')).toBe(false);
  });
});
