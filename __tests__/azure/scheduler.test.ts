/**
 * The ARM scheduler (src/azure/scheduler.ts): retries, give-up errors, concurrency, Retry-After
 * pauses (unit, fake clock), and pacing by `x-ms-ratelimit-remaining-*` against the emulator's
 * token bucket with the real `@azure/arm-apimanagement` client.
 */
import { request } from 'node:https';
import { ClientAssertionCredential } from '@azure/identity';
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { createHttpHeaders, createPipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { createArmScheduler, measureRefillPerMs, parseRetryAfterMs, ArmRetryExhaustedError, RATE_LIMIT_POLICY_NAME, type ArmScheduler } from '../../src/azure/scheduler.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { storePolicy } from '../../src/emulator/arm-policies.js';
import { listAll, type ArmSession } from '../../src/azure/apim.js';

/** A fake clock: `sleep` advances it; several sleepers overlap instead of adding up. */
function fakeClock() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      const target = t + ms;
      await new Promise<void>((r) => setImmediate(r));
      if (target > t) t = target;
    },
  };
}

const httpError = (status: number, headers: Record<string, string> = {}) => Object.assign(new Error(`HTTP ${status}`), { statusCode: status, response: { headers: createHttpHeaders(headers) } });
const resetError = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

/** fn that throws the given errors in order, then resolves 'ok'. */
function failing(...errors: Error[]) {
  let calls = 0;
  const fn = async () => {
    calls++;
    if (errors.length) throw errors.shift();
    return 'ok';
  };
  return { fn, calls: () => calls };
}

describe('run: retries', () => {
  test.each([
    ['429', () => httpError(429, { 'Retry-After': '2' })],
    ['503', () => httpError(503)],
    ['500', () => httpError(500)],
    ['408', () => httpError(408)],
    ['ECONNRESET', resetError],
    ['ETIMEDOUT', () => Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })],
  ])('retries %s and succeeds', async (_name, make) => {
    const clock = fakeClock();
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: () => 0.5 });
    const f = failing(make(), make());
    await expect(s.run('read', f.fn, 'apis/x/policies/policy')).resolves.toBe('ok');
    expect(f.calls()).toBe(3);
    expect(s.stats()).toMatchObject({ calls: 1, retries: 2, failed: 0 });
  });

  test('429 waits Retry-After (seconds or HTTP date); others back off exponentially with jitter, capped', async () => {
    const clock = fakeClock();
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: () => 1 - 1e-9 });
    await s.run('read', failing(httpError(429, { 'Retry-After': '3' })).fn);
    expect(clock.now()).toBe(3000);
    expect(s.stats().throttled).toBe(1);

    const c2 = fakeClock();
    const s2 = createArmScheduler({ sleep: c2.sleep, now: c2.now, random: () => 1 - 1e-9, maxAttempts: 10 });
    await s2.run('write', failing(...Array.from({ length: 9 }, () => httpError(503))).fn);
    expect(c2.sleeps).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);

    const c3 = fakeClock();
    const s3 = createArmScheduler({ sleep: c3.sleep, now: c3.now, random: () => 0 });
    await s3.run('read', failing(resetError()).fn);
    expect(c3.sleeps).toEqual([250]); // jitter: 50–100 % of the exponential step

    expect(parseRetryAfterMs((n) => (n === 'retry-after' ? new Date(10_000).toUTCString() : undefined), 4_000)).toBe(6_000);
    expect(parseRetryAfterMs((n) => (n === 'retry-after' ? '7' : undefined))).toBe(7_000);
    expect(parseRetryAfterMs((n) => (n === 'retry-after-ms' ? '150' : undefined))).toBe(150);
    expect(parseRetryAfterMs(() => undefined)).toBeUndefined();
  });

  test('gives up after maxAttempts with an error naming the resource and what to do', async () => {
    const clock = fakeClock();
    const progress: string[] = [];
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, maxAttempts: 6, onProgress: (d, t) => progress.push(`${d}/${t}`) });
    const f = failing(...Array.from({ length: 10 }, () => httpError(429, { 'Retry-After': '1' })));
    const err = await s.run('read', f.fn, 'apis/x/policies/policy').catch((e) => e);
    expect(err).toBeInstanceOf(ArmRetryExhaustedError);
    expect(err.message).toBe('ARM kept answering 429 for apis/x/policies/policy after 6 attempts; try again later or lower concurrency');
    expect(err.statusCode).toBe(429);
    expect(f.calls()).toBe(6);
    expect(s.stats()).toMatchObject({ calls: 1, retries: 5, throttled: 6, failed: 1 });
    expect(progress).toEqual(['1/1']);

    const s2 = createArmScheduler({ sleep: clock.sleep, now: clock.now, maxAttempts: 3 });
    const e2 = await s2.run('write', failing(resetError(), resetError(), resetError()).fn, 'products/p/policies/policy').catch((e) => e);
    expect(e2.message).toMatch(/connection to ARM kept failing \(ECONNRESET\) for products\/p\/policies\/policy after 3 attempts/);
    const e3 = await s2.run('read', failing(httpError(502), httpError(502), httpError(502)).fn, 'policies/policy').catch((e) => e);
    expect(e3.message).toMatch(/ARM kept answering 502 for policies\/policy after 3 attempts/);
  });

  test.each([400, 401, 403, 404, 409, 412, 501, 505])('does not retry %i; rethrows the original error', async (status) => {
    const clock = fakeClock();
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now });
    const original = httpError(status);
    const f = failing(original);
    await expect(s.run('read', f.fn, 'apis/x')).rejects.toBe(original);
    expect(f.calls()).toBe(1);
    expect(s.stats()).toMatchObject({ calls: 1, retries: 0, failed: 1 });
  });
});

describe('listAll', () => {
  test('a page whose first fetch fails is fetched again, not taken as the end of the list', async () => {
    const clock = fakeClock();
    const scheduler = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: () => 0.5 });
    const session = { scheduler, target: { armEndpoint: 'https://management.azure.com' }, continuationToken: () => undefined } as unknown as ArmSession;
    let fetches = 0;
    // Like the SDK's paged iterators: an async generator per byPage() call; the first fetch fails.
    const list = () => ({
      byPage: () =>
        (async function* () {
          if (fetches++ === 0) throw httpError(503);
          yield [{ name: 'a' }, { name: 'b' }];
        })(),
    });
    const items = await listAll<{ name: string }>(session, 'list things', list as never);
    expect(items.map((i) => i.name)).toEqual(['a', 'b']);
    expect(scheduler.stats()).toMatchObject({ retries: 1, failed: 0 });
  });
});

describe('run: concurrency, pauses, progress', () => {
  test('never runs more than maxConcurrency at once; progress after each call', async () => {
    const s = createArmScheduler({ maxConcurrency: 3, onProgress: (d, t) => progress.push([d, t]) });
    const progress: [number, number][] = [];
    let active = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.run('read', async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 1 + (i % 4)));
          active--;
          return i;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(3);
    expect(progress.map(([d]) => d)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(progress[19]).toEqual([20, 20]);
  });

  test('a 429 with Retry-After pauses every queued call of that kind, not writes', async () => {
    const clock = fakeClock();
    const s = createArmScheduler({ maxConcurrency: 3, sleep: clock.sleep, now: clock.now });
    const started: Record<string, number> = {};
    let releaseB!: () => void;
    const a = s.run('read', async () => {
      started.a ??= clock.now();
      if (clock.now() === 0) throw httpError(429, { 'Retry-After': '2' });
      return 'a';
    });
    const b = s.run('read', () => new Promise<string>((r) => (releaseB = () => r('b'))));
    const c = s.run('write', async () => ((started.c = clock.now()), 'c'));
    const d = s.run('read', async () => ((started.d = clock.now()), 'd')); // queued behind the 3 slots
    await c; // the write is not paused
    expect(started.c).toBe(0);
    await new Promise((r) => setImmediate(r));
    releaseB();
    expect(await Promise.all([a, b, d])).toEqual(['a', 'b', 'd']);
    expect(started.d).toBeGreaterThanOrEqual(2000);
    expect(s.stats()).toMatchObject({ calls: 4, retries: 1, throttled: 1, failed: 0 });
  });
});

describe('pipelinePolicy', () => {
  const response = (status: number, headers: Record<string, string>): PipelineResponse => ({
    status,
    headers: createHttpHeaders(headers),
    request: createPipelineRequest({ url: 'https://arm.example/x' }),
  });

  test('a 429 seen by the policy pauses the next requests of that kind for Retry-After', async () => {
    const clock = fakeClock();
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now });
    expect(s.pipelinePolicy.name).toBe(RATE_LIMIT_POLICY_NAME);
    const sentAt: number[] = [];
    const next = async () => {
      sentAt.push(clock.now());
      return sentAt.length === 1 ? response(429, { 'Retry-After': '4', 'x-ms-ratelimit-remaining-subscription-reads': '0' }) : response(200, { 'x-ms-ratelimit-remaining-subscription-reads': '100' });
    };
    const get = () => s.pipelinePolicy.sendRequest(createPipelineRequest({ url: 'https://arm.example/x', method: 'GET' }), next);
    expect((await get()).status).toBe(429);
    expect((await get()).status).toBe(200);
    expect(sentAt).toEqual([0, 4000]);
    expect(s.stats().throttled).toBe(1);
  });

  test('paces by the refill rate it measures once the remaining budget is low', async () => {
    const clock = fakeClock();
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now });
    // A server bucket: 3 tokens, refills 5/s.
    let tokens = 3;
    let last = 0;
    const sentAt: number[] = [];
    let throttled = 0;
    const next = async () => {
      const t = clock.now();
      tokens = Math.min(3, tokens + ((t - last) / 1000) * 5);
      last = t;
      sentAt.push(t);
      const ok = tokens >= 1;
      if (ok) tokens -= 1;
      else throttled++;
      return response(ok ? 200 : 429, { 'x-ms-ratelimit-remaining-subscription-reads': String(Math.floor(tokens)) });
    };
    for (let i = 0; i < 20; i++) await s.pipelinePolicy.sendRequest(createPipelineRequest({ url: 'https://arm.example/x', method: 'GET' }), next);
    expect(throttled).toBe(0);
    // After the burst and one measuring pause, about 5/s: 17 more in ≈ 17/5 s (no faster than the bucket).
    const elapsed = sentAt[19] - sentAt[0];
    expect(elapsed).toBeGreaterThanOrEqual(((20 - 3) / 5) * 1000 - 200);
    expect(elapsed).toBeLessThan(((20 - 3) / 5) * 1000 * 1.3 + 1000);
  });
});

/**
 * A discrete-event clock: `sleep` queues a timer; `runUntil` lets every pending promise settle,
 * then moves time to the earliest timer and fires it. Concurrent sleepers overlap as in real time.
 */
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

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed = 7) {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
}

interface BucketOptions {
  burst: number;
  /** Refill per second. */
  rate: number;
  /** Tokens at the start (default: full). */
  start?: number;
  /** Ms before the server takes the token, and after (the response's way back). */
  latency?: () => number;
  back?: () => number;
  /** Report x-ms-ratelimit-remaining-subscription-<kind>s (default true). */
  header?: boolean;
  /** Another caller spending the same bucket, tokens per second. */
  other?: number;
}

/** ARM's token bucket for one kind of request, behind a pipeline `next`. */
function armBucket(clock: ReturnType<typeof eventClock>, kind: 'read' | 'write', o: BucketOptions) {
  let tokens = o.start ?? o.burst;
  let last = 0;
  const refill = () => {
    tokens = Math.min(o.burst, tokens + ((clock.now() - last) / 1000) * o.rate);
    last = clock.now();
  };
  const stats = { served: 0, throttled: 0, inflight: 0, peakInflight: 0, sentAt: [] as number[] };
  let stopped = false;
  if (o.other) {
    void (async () => {
      while (!stopped) {
        await clock.sleep(1000 / o.other!);
        refill();
        if (tokens >= 1) tokens -= 1;
      }
    })();
  }
  const next = async (request: ReturnType<typeof createPipelineRequest>): Promise<PipelineResponse> => {
    stats.sentAt.push(clock.now());
    stats.peakInflight = Math.max(stats.peakInflight, ++stats.inflight);
    await clock.sleep(o.latency?.() ?? 20);
    refill();
    const headers: Record<string, string> = {};
    let status = 200;
    if (tokens >= 1) {
      tokens -= 1;
      stats.served++;
    } else {
      status = 429;
      stats.throttled++;
      headers['Retry-After'] = String(Math.max(1, Math.ceil((1 - tokens) / o.rate)));
    }
    if (o.header !== false) headers[`x-ms-ratelimit-remaining-subscription-${kind}s`] = String(Math.max(0, Math.floor(tokens)));
    await clock.sleep(o.back?.() ?? 1);
    stats.inflight--;
    return { status, headers: createHttpHeaders(headers), request };
  };
  return { next, stats, stop: () => (stopped = true) };
}

/** `n` calls of `kind` through `run` and the pipeline policy (a 429 surfaces as the SDK's RestError would). */
async function drive(s: ArmScheduler, clock: ReturnType<typeof eventClock>, bucket: ReturnType<typeof armBucket>, kind: 'read' | 'write', n: number) {
  let finished = 0;
  let failed = 0;
  const method = kind === 'read' ? 'GET' : 'PUT';
  const calls = Array.from({ length: n }, (_, i) =>
    s
      .run(kind, async () => {
        const r = await s.pipelinePolicy.sendRequest(createPipelineRequest({ url: `https://arm.example/p/${i}`, method }), bucket.next as never);
        if (r.status === 429) throw Object.assign(new Error('429'), { statusCode: 429, response: { headers: r.headers }, request: r.request });
        return r.status;
      })
      .then(
        () => finished++,
        () => (finished++, failed++),
      ),
  );
  await clock.runUntil(() => finished === n);
  bucket.stop();
  await Promise.all(calls);
  return { wallMs: clock.now(), failed };
}

/** ARM's lower bound for n requests: the bucket's tokens at the start, then its refill. */
const boundMs = (n: number, o: BucketOptions) => (Math.max(0, n - (o.start ?? o.burst)) / (o.rate - (o.other ?? 0))) * 1000;

describe('pipelinePolicy: pacing by what ARM reports (discrete-event clock, simulated token bucket)', () => {
  test.each([5, 25, 40])('spends the burst at full concurrency, then keeps pace with a refill of %i/s it measured (no rate is built in)', async (rate) => {
    const clock = eventClock();
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: lcg(), maxConcurrency: 16 });
    const o: BucketOptions = { burst: 100, rate };
    const bucket = armBucket(clock, 'read', o);
    const n = 100 + 8 * rate; // 8 s past the burst
    const { wallMs, failed } = await drive(s, clock, bucket, 'read', n);
    expect(failed).toBe(0);
    expect(bucket.stats.throttled).toBe(0);
    expect(bucket.stats.peakInflight).toBe(16);
    // The burst went out at once: the first 90 requests within a few round trips.
    expect(bucket.stats.sentAt[90]!).toBeLessThan(10 * 21);
    expect(wallMs).toBeGreaterThanOrEqual(boundMs(n, o));
    expect(wallMs).toBeLessThan(boundMs(n, o) * 1.05 + 300);
  });

  test('writes are paced by the write bucket (200 + 10/s): 400 writes near the bound, none throttled', async () => {
    const clock = eventClock();
    const rnd = lcg(3);
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: rnd });
    const o: BucketOptions = { burst: 200, rate: 10, latency: () => 30 + 50 * rnd(), back: () => 5 + 20 * rnd() };
    const bucket = armBucket(clock, 'write', o);
    const { wallMs, failed } = await drive(s, clock, bucket, 'write', 400);
    expect(failed).toBe(0);
    expect(bucket.stats.throttled).toBe(0);
    expect(wallMs).toBeLessThan(boundMs(400, o) * 1.05);
  });

  test('slow start: one request until the server has answered, so a drained bucket costs one 429, not a volley', async () => {
    const clock = eventClock();
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: lcg() });
    const o: BucketOptions = { burst: 250, rate: 25, start: 0 };
    const bucket = armBucket(clock, 'read', o);
    const { wallMs, failed } = await drive(s, clock, bucket, 'read', 150);
    expect(failed).toBe(0);
    expect(bucket.stats.sentAt[1]!).toBeGreaterThan(bucket.stats.sentAt[0]!);
    expect(bucket.stats.throttled).toBeLessThanOrEqual(1);
    expect(wallMs).toBeLessThan(boundMs(150, o) * 1.05 + 1000);
  });

  test("keeps up with the refill at ARM's latencies (0.1–1.5 s per call) with the default concurrency", async () => {
    const clock = eventClock();
    const rnd = lcg(11);
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: rnd });
    const o: BucketOptions = { burst: 250, rate: 25, latency: () => (rnd() < 0.9 ? 100 + 300 * rnd() : 400 + 1100 * rnd()), back: () => 5 };
    const bucket = armBucket(clock, 'read', o);
    const { wallMs, failed } = await drive(s, clock, bucket, 'read', 1000);
    expect(failed).toBe(0);
    expect(bucket.stats.throttled).toBe(0);
    expect(wallMs).toBeLessThan(boundMs(1000, o) * 1.1);
  });

  test('responses that overtake each other (jitter on both legs) do not make it send too much', async () => {
    const clock = eventClock();
    const rnd = lcg(5);
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: rnd });
    const o: BucketOptions = { burst: 250, rate: 25, latency: () => 10 + 190 * rnd(), back: () => 10 + 190 * rnd() };
    const bucket = armBucket(clock, 'read', o);
    const { wallMs, failed } = await drive(s, clock, bucket, 'read', 1000);
    expect(failed).toBe(0);
    expect(bucket.stats.throttled).toBeLessThanOrEqual(10); // ≤ 1 %
    expect(wallMs).toBeLessThan(boundMs(1000, o) * 1.1);
  });

  test('another caller spending the same bucket: paces to what is left for it, without 429s', async () => {
    const clock = eventClock();
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: lcg() });
    const o: BucketOptions = { burst: 250, rate: 25, other: 5 };
    const bucket = armBucket(clock, 'read', o);
    const { wallMs, failed } = await drive(s, clock, bucket, 'read', 600);
    expect(failed).toBe(0);
    expect(bucket.stats.throttled).toBeLessThanOrEqual(6);
    expect(wallMs).toBeLessThan(boundMs(600, o) * 1.1);
  });

  test('after a long pause it projects no more budget than the bucket was ever seen to hold', async () => {
    const clock = eventClock();
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: lcg() });
    const o: BucketOptions = { burst: 250, rate: 25 };
    const bucket = armBucket(clock, 'read', o);
    await drive(s, clock, { ...bucket, stop: () => false }, 'read', 400); // drains it: paced at the end
    let woke = false;
    void clock.sleep(60_000).then(() => (woke = true));
    await clock.runUntil(() => woke);
    const before = bucket.stats.throttled;
    const { failed } = await drive(s, clock, bucket, 'read', 400);
    expect(failed).toBe(0);
    expect(bucket.stats.throttled - before).toBe(0);
  });

  test('a server without rate-limit headers: its 429s pace the calls, none fails', async () => {
    const clock = eventClock();
    const s = createArmScheduler({ sleep: clock.sleep, now: clock.now, random: lcg() });
    const o: BucketOptions = { burst: 100, rate: 25, header: false };
    const bucket = armBucket(clock, 'read', o);
    const { wallMs, failed } = await drive(s, clock, bucket, 'read', 500);
    expect(failed).toBe(0);
    // The burst's end is found by the 429s of one volley; after that, paced by the refill measured between 429s.
    expect(bucket.stats.throttled).toBeLessThanOrEqual(40);
    expect(wallMs).toBeLessThan(boundMs(500, o) * 1.15);
  });
});

describe('measureRefillPerMs', () => {
  test('least squares over the window: close to the true rate although responses arrive out of order', () => {
    // A bucket refilling 25/s drained by 32 requests at a time; the n-th response reports what
    // remained after a token taken by some other request of its volley (up to 31 places away).
    const rnd = lcg(9);
    const samples: { t: number; v: number }[] = [];
    let taken = 0;
    for (let volley = 0; volley < 20; volley++) {
      const order = Array.from({ length: 32 }, (_, i) => i).sort(() => rnd() - 0.5);
      for (let k = 0; k < 32; k++) {
        const t = volley * 100 + k * 3;
        const takenBy = taken + order[k]! + 1; // tokens taken when this report's token went
        const remaining = 1000 + 0.025 * t - takenBy;
        samples.push({ t, v: remaining + (taken + k + 1) });
      }
      taken += 32;
    }
    const rate = measureRefillPerMs(samples)! * 1000;
    expect(rate).toBeGreaterThan(25 * 0.95);
    expect(rate).toBeLessThan(25 * 1.05);
    expect(measureRefillPerMs(samples.slice(0, 10))).toBeUndefined(); // spans less than a second
  });
});

describe('against the emulator token bucket (real SDK client)', () => {
  const ARM_SCOPE = 'https://management.azure.com/.default';
  let emu: RunningEmulator;

  function getJson(url: string, headers: Record<string, string>): Promise<any> {
    return new Promise((resolve, reject) => {
      const r = request(url, { method: 'GET', ca: emu.caCert, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
      });
      r.on('error', reject);
      r.end();
    });
  }

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, throttle: { readBurst: 20, readRate: 10, writeBurst: 20, writeRate: 10 } });
    storePolicy(emu.state, 'policies/policy', '<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>');
  });
  afterAll(async () => {
    await emu?.close();
  });

  test('60 policy.get reads: all succeed, ≤ 10 % throttled, no faster than the bucket allows', async () => {
    const credential = new ClientAssertionCredential(
      emu.ready.tenantId,
      emu.ready.clientId,
      async () => {
        const r = await getJson(`${emu.ready.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent('api://AzureADTokenExchange')}`, {
          Authorization: `Bearer ${emu.ready.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}`,
        });
        return r.body.value as string;
      },
      { authorityHost: emu.ready.env.AZURE_AUTHORITY_HOST, disableInstanceDiscovery: true, tlsOptions: { ca: emu.caCert } },
    );
    await credential.getToken(ARM_SCOPE); // token before the clock starts

    const progress: string[] = [];
    const scheduler = createArmScheduler({ maxConcurrency: 8, onProgress: (d, t) => progress.push(`read ${d}/${t}`) });
    const client = new ApiManagementClient(credential, emu.ready.subscriptionId, {
      endpoint: emu.ready.armEndpoint,
      credentialScopes: [ARM_SCOPE],
      tlsOptions: { ca: emu.caCert },
      retryOptions: { maxRetries: 0 },
      additionalPolicies: [{ policy: scheduler.pipelinePolicy, position: 'perRetry' }],
    });
    const { resourceGroup: rg, serviceName: svc } = emu.ready;

    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => scheduler.run('read', () => client.policy.get(rg, svc, 'policy', { format: 'rawxml' }), `policies/policy #${i}`)));
    const elapsed = Date.now() - started;
    if (process.env.SCHEDULER_DEBUG) console.log({ elapsed, ...scheduler.stats() });

    expect(results.every((r) => typeof r.value === 'string' && r.value.includes('<policies>'))).toBe(true);
    const stats = scheduler.stats();
    expect(stats.calls).toBe(60);
    expect(stats.requests).toBeGreaterThanOrEqual(60); // every response went through the policy
    expect(stats.failed).toBe(0);
    expect(stats.throttled).toBeLessThanOrEqual(6);
    // No faster than the bucket allows (the server enforces it, so a busy machine only adds to it);
    // not bounded above by wall time, which depends on the machine: no volley of retries instead.
    expect(elapsed).toBeGreaterThanOrEqual(((60 - 20) / 10) * 1000 - 500);
    expect(stats.requests).toBeLessThanOrEqual(stats.calls + stats.throttled);
    expect(progress).toHaveLength(60);
    expect(progress[59]).toBe('read 60/60');
  });
});
