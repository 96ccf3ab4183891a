/**
 * The pure parts behind "interrupted and concurrent applies lose nothing": the scheduler's write
 * gate, restore's decision per resource, and applyPlan's bookkeeping (what it can prove it wrote,
 * what an interruption stops), driven through the LiveWriter interface by an in-memory instance.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import type { ArmSession } from '../../src/azure/apim.js';
import { createArmScheduler, WritesHaltedError } from '../../src/azure/scheduler.js';
import { stoppableWriters } from '../../src/azure/write-gate.js';
import { addressKey, parsePolicyAddress } from '../../src/model/address.js';
import { PreconditionFailed } from '../../src/model/live-errors.js';
import type { IdentityShape, IdentityState, IdentityWriter, LiveCopy, LiveWriter, Plan, PolicyResource, RoleAssignment } from '../../src/model/index.js';
import { applyPlan, type ApplyEvent } from '../../src/plan/apply.js';
import { computePlan } from '../../src/plan/compute.js';
import { restoreDecision, restoreSnapshot, type Snapshot, type SnapshotResource } from '../../src/plan/snapshot.js';
import { policy } from '../helpers/tree.js';

const deferred = <T = void>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};
const never = () => new Promise<void>(() => undefined);
/** Lets queued promise work run until `done` holds (a few turns of the event loop at most). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setImmediate(r));
  if (!done()) throw new Error('never happened');
}

describe('the scheduler stops the writes of an interrupted apply', () => {
  test('a write queued behind one in flight is not sent; the one in flight settles; later writes and reads go out', async () => {
    const s = createArmScheduler({ maxConcurrency: 1 });
    const inFlight = deferred<string>();
    const sent: string[] = [];
    const first = s.gateWrites(() => s.run('write', () => (sent.push('first'), inFlight.promise)));
    const queued = s.gateWrites(() => s.run('write', async () => (sent.push('queued'), 'queued')));
    await until(() => sent.length === 1);
    s.haltWrites();
    inFlight.resolve('first');
    await expect(first).resolves.toBe('first');
    await expect(queued).rejects.toBeInstanceOf(WritesHaltedError);
    await expect(s.gateWrites(() => s.run('write', async () => (sent.push('restore'), 'restore')))).resolves.toBe('restore');
    expect(sent).toEqual(['first', 'restore']);
  });

  test('a write waiting to be retried stops waiting and is not sent again', async () => {
    const s = createArmScheduler({ sleep: never });
    let calls = 0;
    const write = s.gateWrites(() =>
      s.run('write', async () => {
        calls++;
        throw Object.assign(new Error('HTTP 503'), { statusCode: 503 });
      }),
    );
    await until(() => calls === 1);
    s.haltWrites();
    await expect(write).rejects.toThrow(/not sent, the apply was interrupted/);
    expect(calls).toBe(1);
    // Reads of the same work are not stopped.
    await expect(s.gateWrites(async () => s.run('read', async () => 'read'))).resolves.toBe('read');
  });

  test("a request waiting for ARM's write budget when the apply is interrupted is never sent", async () => {
    const s = createArmScheduler();
    const answer = deferred<PipelineResponse>();
    const sentUrls: string[] = [];
    const next = (request: ReturnType<typeof createPipelineRequest>) => {
      sentUrls.push(request.url);
      return answer.promise;
    };
    const put = (url: string) => s.pipelinePolicy.sendRequest(createPipelineRequest({ url, method: 'PUT' }), next);
    // Slow start: until ARM answered once, one write at a time; the second waits for budget.
    const first = s.gateWrites(() => put('https://arm.example/first'));
    const second = s.gateWrites(() => put('https://arm.example/second'));
    await new Promise((r) => setImmediate(r));
    s.haltWrites();
    answer.resolve({ status: 200, headers: createHttpHeaders({ 'x-ms-ratelimit-remaining-subscription-writes': '100' }), request: createPipelineRequest({ url: 'https://arm.example/first' }) });
    await expect(first).resolves.toMatchObject({ status: 200 });
    await expect(second).rejects.toBeInstanceOf(WritesHaltedError);
    expect(sentUrls).toEqual(['https://arm.example/first']);
  });
});

describe('stoppableWriters: the writes of one apply, stopped by its signal', () => {
  /** A writer whose PUT goes through the scheduler and fails once with 503 (then waits for its retry). */
  function setup() {
    const retry = deferred();
    const scheduler = createArmScheduler({ sleep: () => retry.promise });
    let attempts = 0;
    const store: LiveWriter = {
      read: async () => undefined,
      put: () =>
        scheduler.run('write', async () => {
          if (++attempts === 1) throw Object.assign(new Error('HTTP 503'), { statusCode: 503 });
          return { etag: '"e2"' };
        }),
      remove: async () => undefined,
    };
    const controller = new AbortController();
    const w = stoppableWriters({ scheduler } as unknown as ArmSession, store, new MemoryIdentity(), controller.signal);
    return { w, controller, retry, attempts: () => attempts };
  }

  test('a write of the apply waiting for its retry is stopped by the signal', async () => {
    const { w, controller, attempts } = setup();
    const put = w.writer.put(A, 'x', {});
    await until(() => attempts() === 1);
    controller.abort('SIGTERM');
    await expect(put).rejects.toBeInstanceOf(WritesHaltedError);
    expect(attempts()).toBe(1);
  });

  test('once released (the apply is restoring), the signal no longer stops a write', async () => {
    const { w, controller, retry, attempts } = setup();
    w.release();
    const put = w.writer.put(A, 'x', {});
    await until(() => attempts() === 1);
    controller.abort('SIGTERM');
    retry.resolve();
    await expect(put).resolves.toEqual({ etag: '"e2"' });
    expect(attempts()).toBe(2);
  });
});

const A = 'apis/a/policies/policy';
const header = (v: string) => policy(`<set-header name="v" exists-action="override"><value>${v}</value></set-header>`);
const resource = (over: Partial<SnapshotResource>): SnapshotResource => ({ address: A, action: 'update', existed: true, xml: header('before'), etag: '"e1"', ...over });

describe("restoreDecision: only what is provably still the apply's write goes back", () => {
  const live = (xml: string, etag: string): LiveCopy => ({ address: A, xml, etag });
  test.each<[string, SnapshotResource, LiveCopy | undefined, boolean, string]>([
    ['as before already', resource({ after: { existed: true, etag: '"e2"' } }), live(header('before'), '"e9"'), false, 'nothing'],
    ["still the apply's write", resource({ after: { existed: true, etag: '"e2"' } }), live(header('after'), '"e2"'), false, 'put:"e2"'],
    ['changed since the write', resource({ after: { existed: true, etag: '"e2"' } }), live(header('person'), '"e3"'), false, 'refuse'],
    ['changed since, --force', resource({ after: { existed: true, etag: '"e2"' } }), live(header('person'), '"e3"'), true, 'put:"e3"'],
    ['created by the apply', resource({ action: 'create', existed: false, xml: undefined, after: { existed: true, etag: '"e2"' } }), live(header('after'), '"e2"'), false, 'delete:"e2"'],
    ['deleted by the apply, still gone', resource({ action: 'delete', after: { existed: false } }), undefined, false, 'put:'],
    ['deleted by the apply, created again', resource({ action: 'delete', after: { existed: false } }), live(header('new'), '"e5"'), false, 'refuse'],
    ['write never confirmed, same content', resource({ writes: 'x' }), live(header('after'), '"e2"'), false, 'refuse'],
  ])('%s', (_name, r, now, force, expected) => {
    const d = restoreDecision(r, now, force);
    const got = d.do === 'put' ? `put:${d.ifMatch ?? ''}` : d.do === 'delete' ? `delete:${d.ifMatch}` : d.do;
    expect(got).toBe(expected);
  });
});

/** An APIM instance in memory: ETags change on every write, If-Match is checked. */
class MemoryInstance implements LiveWriter {
  items = new Map<string, LiveCopy>();
  private n = 0;
  writes: string[] = [];
  /** Runs before a PUT of the address is carried out (another run's write, a failure). */
  beforePut = new Map<string, () => void>();
  set(address: string, xml: string): string {
    const etag = `"e${++this.n}"`;
    this.items.set(address, { address, xml, etag });
    return etag;
  }
  async read(address: string) {
    const c = this.items.get(address);
    return c ? { ...c } : undefined;
  }
  async put(address: string, xml: string, { ifMatch }: { ifMatch?: string }) {
    this.beforePut.get(address)?.();
    const cur = this.items.get(address);
    if (cur && ifMatch && ifMatch !== '*' && ifMatch !== cur.etag) throw Object.assign(new PreconditionFailed('precondition'), { statusCode: 412 });
    this.writes.push(`PUT ${address}`);
    return { etag: this.set(address, xml) };
  }
  async remove(address: string, ifMatch: string) {
    const cur = this.items.get(address);
    if (cur && ifMatch !== '*' && ifMatch !== cur.etag) throw Object.assign(new PreconditionFailed('precondition'), { statusCode: 412 });
    this.writes.push(`DELETE ${address}`);
    this.items.delete(address);
  }
}

const source = { kind: 'azure' as const, serviceId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.ApiManagement/service/s', armEndpoint: 'https://management.azure.com', fingerprint: 'f' };

function planFor(instance: MemoryInstance, desired: Record<string, string>): Plan {
  const resources = (m: Map<string, { xml: string; etag?: string }>) =>
    new Map([...m].map(([a, r]) => [addressKey(a), { type: 'policy', address: a, scope: parsePolicyAddress(a)!, xml: r.xml, ...(r.etag ? { etag: r.etag } : {}) } as PolicyResource]));
  return computePlan({ state: { resources: resources(new Map(Object.entries(desired).map(([a, xml]) => [a, { xml }]))) } }, { state: { resources: resources(instance.items) } }, { source });
}

const snapshotFile = () => join(mkdtempSync(join(tmpdir(), 'apim-policy-apply-')), 'snap.json');
const FRAGMENT = 'policyFragments/f';
const OP = 'apis/a/operations/o/policies/policy';
const fragment = (v: string) => `<fragment><set-variable name="a" value="${v}" /></fragment>`;

describe('applyPlan: what it restores and what it records', () => {
  test('a write that met 412 because another run wrote the same content is not restored on a later failure', async () => {
    const live = new MemoryInstance();
    live.set(FRAGMENT, fragment('1'));
    live.set(A, header('1'));
    live.set(OP, header('1'));
    const plan = planFor(live, { [FRAGMENT]: fragment('2'), [A]: header('same'), [OP]: header('2') });
    // The other run writes the same content to A first; then this run's operation write fails.
    live.beforePut.set(A, () => {
      live.beforePut.delete(A);
      live.set(A, header('same'));
    });
    live.beforePut.set(OP, () => {
      throw Object.assign(new Error(`PUT ${OP}: ARM answered 400`), { statusCode: 400 });
    });
    const file = snapshotFile();
    const othersEtag = () => live.items.get(A)!.etag;
    const result = await applyPlan(plan, live, { targetFingerprint: 'f', allowDeletes: false, snapshotFile: file });
    expect(result.ok).toBe(false);
    expect(result.restored.map((r) => [r.address, r.ok])).toEqual([
      [A, false],
      [FRAGMENT, true],
    ]);
    expect(result.restored[0]!.message).toContain("NOT restored: live has this run's content, but ARM never confirmed a write of this run to it");
    expect(live.items.get(A)!.xml).toBe(header('same'));
    expect(othersEtag()).toBe(live.items.get(A)!.etag);
    expect(live.items.get(FRAGMENT)!.xml).toBe(fragment('1'));
    const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
    expect(snapshot.resources.find((r) => r.address === A)!.after).toBeUndefined();
    expect(snapshot.resources.find((r) => r.address === FRAGMENT)!.after).toEqual({ existed: true, etag: expect.stringMatching(/^"e\d+"$/) });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('an interruption after the first write: nothing more is written, the first is put back, the result says so', async () => {
    const live = new MemoryInstance();
    live.set(FRAGMENT, fragment('1'));
    live.set(A, header('1'));
    const plan = planFor(live, { [FRAGMENT]: fragment('2'), [A]: header('2') });
    const controller = new AbortController();
    const events: ApplyEvent['type'][] = [];
    const result = await applyPlan(plan, live, {
      targetFingerprint: 'f',
      allowDeletes: false,
      snapshotFile: snapshotFile(),
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e.type);
        if (e.type === 'written') controller.abort('SIGINT');
      },
    });
    expect(result).toMatchObject({ ok: false, interrupted: 'SIGINT' });
    expect(result.error).toMatch(/^interrupted \(SIGINT\) before the apply finished; no write was started after that/);
    expect(live.writes).toEqual([`PUT ${FRAGMENT}`, `PUT ${FRAGMENT}`]);
    expect(result.restored).toEqual([{ address: FRAGMENT, ok: true, message: 'put back as it was' }]);
    expect(events).toEqual(['snapshot', 'write', 'written', 'restoring', 'restore']);
    expect(live.items.get(FRAGMENT)!.xml).toBe(fragment('1'));
  });

  test('interrupted before the first write: refused, no snapshot, nothing written', async () => {
    const live = new MemoryInstance();
    live.set(A, header('1'));
    const plan = planFor(live, { [A]: header('2') });
    const file = snapshotFile();
    const err = await applyPlan(plan, live, { targetFingerprint: 'f', allowDeletes: false, snapshotFile: file, signal: AbortSignal.abort('SIGTERM') }).catch((e) => e);
    expect(err.message).toBe('interrupted (SIGTERM) before the first write; nothing was written');
    expect(live.writes).toEqual([]);
    expect(() => statSync(file)).toThrow();
  });
});

/** The instance's identity and role assignments in memory. */
class MemoryIdentity implements IdentityWriter {
  state: IdentityState = { shape: { systemAssigned: false, userAssigned: [] } };
  assignments = new Map<string, { scope: string; principalId: string; roleDefinitionGuid: string }>();
  log: string[] = [];
  async readIdentity() {
    return structuredClone(this.state);
  }
  async setIdentity(shape: IdentityShape) {
    this.log.push(`identity ${shape.systemAssigned ? 'SystemAssigned' : 'None'}`);
    this.state = { shape: structuredClone(shape) };
    return this.readIdentity();
  }
  async readAssignment(_scope: string, name: string) {
    return this.assignments.get(name);
  }
  async createAssignment(a: RoleAssignment & { name: string; principalId: string }) {
    this.log.push(`create ${a.name}`);
    this.assignments.set(a.name, { scope: a.scope, principalId: a.principalId, roleDefinitionGuid: a.roleDefinitionGuid });
  }
  async deleteAssignment(_scope: string, name: string) {
    this.log.push(`delete ${name}`);
    this.assignments.delete(name);
  }
}

describe('restoreSnapshot: identity and role assignments', () => {
  const scope = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/sb';
  const granted = { name: 'g1', scope, roleDefinitionGuid: 'r1', roleName: 'Sender', identity: 'system', principalId: 'p1' };
  const removed = { name: 'g0', scope, roleDefinitionGuid: 'r0', roleName: 'Reader', identity: 'system', principalId: 'p0' };
  const snapshot = (): Snapshot => ({
    formatVersion: 2,
    createdAt: 'x',
    serviceId: source.serviceId,
    resources: [],
    identity: { systemAssigned: false, userAssigned: ['/u/1'] },
    identityAfter: { systemAssigned: true, userAssigned: ['/u/1'] },
    roleAssignments: [removed],
    roleAssignmentsDeleted: ['g0'],
    roleAssignmentsCreated: [granted],
  });

  test('deletes what the apply granted, re-creates what it deleted, sets the identity back; a later identity change is kept unless --force', async () => {
    const ids = new MemoryIdentity();
    ids.state = { shape: { systemAssigned: true, userAssigned: ['/u/1'] } };
    ids.assignments.set('g1', { scope, principalId: 'p1', roleDefinitionGuid: 'r1' });
    const reports = await restoreSnapshot(snapshot(), new MemoryInstance(), ids, { force: false });
    expect(reports.map((r) => [r.address, r.outcome])).toEqual([
      ['roleAssignments/g1', 'restored'],
      ['roleAssignments/g0', 'restored'],
      ['identity', 'restored'],
    ]);
    expect(ids.log).toEqual(['delete g1', 'create g0', 'identity None']);
    expect(ids.state.shape).toEqual({ systemAssigned: false, userAssigned: ['/u/1'] });

    const changed = new MemoryIdentity();
    changed.state = { shape: { systemAssigned: true, userAssigned: ['/u/1', '/u/2'] } };
    changed.assignments.set('g0', { scope, principalId: 'p0', roleDefinitionGuid: 'r0' });
    const kept = await restoreSnapshot(snapshot(), new MemoryInstance(), changed, { force: false });
    expect(kept.map((r) => [r.address, r.outcome])).toEqual([
      ['roleAssignments/g1', 'unchanged'],
      ['roleAssignments/g0', 'unchanged'],
      ['identity', 'not-restored'],
    ]);
    expect(kept[2]!.message).toContain('the identity is neither as it was nor as the apply left it');
    expect(changed.log).toEqual([]);
    const forced = await restoreSnapshot(snapshot(), new MemoryInstance(), changed, { force: true });
    expect(forced[2]).toMatchObject({ address: 'identity', outcome: 'restored' });
  });
});
