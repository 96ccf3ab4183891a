/**
 * The scheduler paces by the lowest of the buckets a request draws on (src/azure/arm-buckets.ts):
 * its principal's and the subscription's global one, per operation type, deletes apart from
 * writes. Pure decisions first, then the pipeline policy against a simulated ARM (discrete-event
 * clock: no real time passes, nothing depends on timing).
 */
import { createHttpHeaders, createPipelineRequest, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { bucketDelay, bucketsOf, combineDelays, createArmScheduler, newBucketState, operationTypeOf } from '../../src/azure/scheduler.js';

describe('pacing decisions (pure)', () => {
  test('operation types as ARM counts them; each draws on its own bucket and the global one', () => {
    expect(['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'].map(operationTypeOf)).toEqual(['read', 'read', 'write', 'write', 'write', 'delete']);
    expect(bucketsOf('delete')).toEqual(['deletes', 'global-deletes']);
    expect(bucketsOf('read')).toEqual(['reads', 'global-reads']);
  });

  test('the lowest bucket decides: the longest timed wait, else wait for a response, else go', () => {
    expect(combineDelays([0, 0])).toBe(0);
    expect(combineDelays([0, -1])).toBe(-1);
    expect(combineDelays([-1, 400])).toBe(400);
    expect(combineDelays([250, 0, 400])).toBe(400);
  });

  test('a bucket with budget lets go; one reported spent waits for its refill; one never reported holds nothing back', () => {
    const heard = (remaining: number, rate?: number) => ({ ...newBucketState(), heard: true, sent: 1, answers: 1, reports: [{ remaining, at: 0, known: 1 }], maxRemaining: remaining, rate });
    expect(bucketDelay(heard(100), 0, 8)).toBe(0);
    // 0 left, refill 10/s measured: about 1 / (10 × 0.95) s, plus the reserve token.
    const d = bucketDelay(heard(0, 10 / 1000), 0, 8);
    expect(d).toBeGreaterThan(100);
    expect(d).toBeLessThan(300);
    expect(bucketDelay({ ...newBucketState(), heard: true }, 0, 8)).toBe(0);
    // A principal bucket with room and a spent global one: the request waits.
    expect(combineDelays([bucketDelay(heard(100), 0, 8), bucketDelay(heard(0, 10 / 1000), 0, 8)])).toBe(d);
  });
});

/** A discrete-event clock: `sleep` queues a timer; `runUntil` settles promises, then fires the earliest timer. */
function eventClock() {
  let t = 0;
  let seq = 0;
  const timers: { due: number; seq: number; fire: () => void }[] = [];
  const settle = async () => {
    for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
  };
  return {
    now: () => t,
    sleep: (ms: number) => new Promise<void>((fire) => timers.push({ due: t + Math.max(0, ms), seq: seq++, fire })),
    async runUntil(done: () => boolean) {
      for (;;) {
        await settle();
        if (done()) return;
        if (!timers.length) throw new Error(`nothing scheduled at ${t} ms and not done`);
        let k = 0;
        for (let i = 1; i < timers.length; i++) if (timers[i]!.due < timers[k]!.due || (timers[i]!.due === timers[k]!.due && timers[i]!.seq < timers[k]!.seq)) k = i;
        const next = timers.splice(k, 1)[0]!;
        t = Math.max(t, next.due);
        next.fire();
      }
    },
  };
}

interface Spec {
  burst: number;
  rate: number;
  start?: number;
}

/** Simulated ARM: per operation type a principal bucket and a global one (both reported, as ARM does); a request needs a token of each. */
function simulatedArm(clock: ReturnType<typeof eventClock>, specs: Partial<Record<string, Spec>>, opts: { reportGlobal?: boolean } = {}) {
  const buckets = new Map<string, { spec: Spec; tokens: number; last: number }>();
  for (const [name, spec] of Object.entries(specs)) buckets.set(name, { spec: spec!, tokens: spec!.start ?? spec!.burst, last: 0 });
  const level = (name: string) => {
    const b = buckets.get(name);
    if (!b) return Infinity;
    b.tokens = Math.min(b.spec.burst, b.tokens + ((clock.now() - b.last) / 1000) * b.spec.rate);
    b.last = clock.now();
    return b.tokens;
  };
  const stats = { served: 0, throttled: 0, servedAt: [] as number[] };
  const next = async (request: PipelineRequest): Promise<PipelineResponse> => {
    await clock.sleep(20);
    // ARM's own classification, written out here (not the scheduler's): GET/HEAD read, DELETE delete, the rest write.
    const op = request.method === 'GET' || request.method === 'HEAD' ? 'reads' : request.method === 'DELETE' ? 'deletes' : 'writes';
    const names = [op, `global-${op}`];
    const ok = names.every((n) => level(n) >= 1);
    const headers: Record<string, string> = {};
    if (ok) {
      for (const n of names) if (buckets.has(n)) buckets.get(n)!.tokens -= 1;
      stats.served++;
      stats.servedAt.push(clock.now());
    } else {
      stats.throttled++;
      const waits = names.map((n) => (buckets.has(n) ? (1 - buckets.get(n)!.tokens) / buckets.get(n)!.spec.rate : 0));
      headers['Retry-After'] = String(Math.max(1, Math.ceil(Math.max(...waits))));
    }
    for (const n of names)
      if (buckets.has(n) && (opts.reportGlobal !== false || !n.startsWith('global-'))) headers[`x-ms-ratelimit-remaining-subscription-${n}`] = String(Math.max(0, Math.floor(level(n))));
    await clock.sleep(1);
    return { status: ok ? 200 : 429, headers: createHttpHeaders(headers), request };
  };
  return { next, stats };
}

async function drive(clock: ReturnType<typeof eventClock>, arm: ReturnType<typeof simulatedArm>, method: string, n: number, kind: 'read' | 'write' = 'read') {
  const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: () => 0.5, maxConcurrency: 16 });
  let finished = 0;
  let failed = 0;
  const calls = Array.from({ length: n }, (_, i) =>
    s
      .run(kind, async () => {
        const r = await s.pipelinePolicy.sendRequest(createPipelineRequest({ url: `https://arm.example/p/${i}`, method: method as 'GET' }), arm.next as never);
        if (r.status === 429) throw Object.assign(new Error('429'), { statusCode: 429, response: { headers: r.headers }, request: r.request });
        return r.status;
      })
      .then(
        () => finished++,
        () => (finished++, failed++),
      ),
  );
  await clock.runUntil(() => finished === n);
  await Promise.all(calls);
  return { wallMs: clock.now(), failed, stats: s.stats() };
}

describe('pipelinePolicy against a simulated ARM with principal and global buckets', () => {
  test('paced by the global bucket when other principals left it lower than this one’s: no 429, no faster than its refill', async () => {
    const clock = eventClock();
    // This principal: plenty. The subscription's global bucket: 10 left, refilling 5/s (others spend the rest).
    const arm = simulatedArm(clock, { reads: { burst: 250, rate: 25 }, 'global-reads': { burst: 250, rate: 5, start: 10 } });
    const n = 40;
    const { wallMs, failed } = await drive(clock, arm, 'GET', n);
    expect(failed).toBe(0);
    expect(arm.stats.throttled).toBeLessThanOrEqual(1);
    expect(wallMs).toBeGreaterThanOrEqual(((n - 10) / 5) * 1000);
  });

  test('DELETEs are paced by the deletes bucket, not the writes one', async () => {
    const clock = eventClock();
    // Writes spent (0 left, nearly no refill), deletes: 5 then 5/s. Deletes must go at once and keep pace without 429s.
    const arm = simulatedArm(clock, { writes: { burst: 200, rate: 0.01, start: 0 }, deletes: { burst: 200, rate: 5, start: 5 } });
    const n = 25;
    const { wallMs, failed } = await drive(clock, arm, 'DELETE', n, 'write');
    expect(failed).toBe(0);
    expect(arm.stats.throttled).toBeLessThanOrEqual(1);
    expect(wallMs).toBeGreaterThanOrEqual(((n - 5) / 5) * 1000);
    // Not held back by the spent writes bucket (0.01/s would take hours).
    expect(wallMs).toBeLessThan(((n - 5) / 5) * 1000 * 1.5 + 2000);
  });
});

describe('a bucket other processes drain', () => {
  test('a refill measured near zero does not project a wait of hours: it probes within MAX_BUDGET_WAIT_MS of the last report', () => {
    // 0 left, 30 sent since the report, a measured refill of 0.001/s (others take nearly all of it).
    const s = { ...newBucketState(), heard: true, sent: 31, answers: 31, reports: [{ remaining: 0, at: 0, known: 1 }], maxRemaining: 250, rate: 0.001 / 1000 };
    expect(bucketDelay(s, 0, 8)).toBeLessThanOrEqual(2_000);
    expect(bucketDelay(s, 0, 8)).toBeGreaterThan(0);
    expect(bucketDelay(s, 2_000, 8)).toBe(0);
    // With a request of its own in flight, it waits for that answer first.
    expect(bucketDelay({ ...s, inflight: 1 }, 2_000, 8)).toBe(-1);
  });
});
