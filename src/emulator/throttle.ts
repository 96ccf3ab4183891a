/**
 * ARM's request throttling as Microsoft documents it since 2024 ("request limits and throttling"):
 * token buckets per subscription, per principal and per operation type — reads 250 + 25/s, writes
 * 200 + 10/s, deletes 200 + 10/s (a bucket of their own) — plus a global subscription bucket per
 * operation type holding 15× the per-principal one, shared by all principals. A request is served
 * only when both its principal's bucket and the global one hold a token; it takes one from each.
 *
 * The buckets are always accounted (so the `x-ms-ratelimit-remaining-*` headers are truthful);
 * they refuse requests (429) only when throttling is on. GET/HEAD are reads, DELETE is a delete,
 * everything else (PUT, PATCH, POST such as `listValue`) is a write.
 */

export interface ThrottleConfig {
  readBurst: number;
  readRate: number;
  writeBurst: number;
  writeRate: number;
  /** Default: 200 + 10/s, ARM's documented delete bucket. */
  deleteBurst?: number;
  deleteRate?: number;
  /** The global subscription bucket is this many times the per-principal one (default 15). */
  globalFactor?: number;
}
export const DEFAULT_THROTTLE: Required<ThrottleConfig> = { readBurst: 250, readRate: 25, writeBurst: 200, writeRate: 10, deleteBurst: 200, deleteRate: 10, globalFactor: 15 };

export type OperationType = 'reads' | 'writes' | 'deletes';

export const operationTypeOf = (method: string): OperationType => {
  const m = method.toUpperCase();
  return m === 'GET' || m === 'HEAD' ? 'reads' : m === 'DELETE' ? 'deletes' : 'writes';
};

/** `true` = ARM's defaults; an object = ARM's defaults overridden; false/undefined = off. */
export const throttleOf = (t: boolean | Partial<ThrottleConfig> | undefined): Required<ThrottleConfig> | undefined =>
  t === undefined || t === false ? undefined : t === true ? { ...DEFAULT_THROTTLE } : { ...DEFAULT_THROTTLE, ...t };

export class TokenBucket {
  tokens: number;
  private last: number;
  constructor(
    readonly burst: number,
    readonly rate: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }
  refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
  }
  /** Seconds until one token is there (at least 1: Retry-After is whole seconds). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((1 - this.tokens) / this.rate));
  }
  remaining(): number {
    return Math.max(0, Math.floor(this.tokens));
  }
}

export interface ThrottleOutcome {
  /** False: the request must be answered 429 (only when throttling is on). */
  allowed: boolean;
  /** Whole seconds, when refused. */
  retryAfterSeconds?: number;
  /** Which bucket refused: the principal's or the global one. */
  limitedBy?: 'principal' | 'global';
  /** The `x-ms-ratelimit-remaining-subscription-*` headers, after this request. */
  headers: Record<string, string>;
}

const LABEL: Record<OperationType, string> = { reads: 'Read', writes: 'Write', deletes: 'Delete' };

/** The 429 message ARM gives when a subscription bucket is spent. */
export const throttledMessage = (op: OperationType, limitedBy: 'principal' | 'global') =>
  `The request is being throttled as the limit has been reached for operation type - ${LABEL[op]}${limitedBy === 'global' ? '_Global' : ''}_ObservationWindow_00:05:00. For more information, see - https://aka.ms/srpthrottlinglimits`;

/** The buckets of one subscription. `now` is injectable (unit tests run without clocks). */
export class ArmThrottle {
  private config: Required<ThrottleConfig> = { ...DEFAULT_THROTTLE };
  private enforce = false;
  private buckets = new Map<string, TokenBucket>();

  constructor(
    config: Required<ThrottleConfig> | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.configure(config);
  }

  /** New, full buckets; `undefined` = accounted at ARM's defaults but never refusing. */
  configure(config: Required<ThrottleConfig> | undefined): void {
    this.enforce = config !== undefined;
    this.config = { ...(config ?? DEFAULT_THROTTLE) };
    this.buckets.clear();
  }

  get enforcing(): boolean {
    return this.enforce;
  }

  private shape(op: OperationType): [number, number] {
    const c = this.config;
    return op === 'reads' ? [c.readBurst, c.readRate] : op === 'writes' ? [c.writeBurst, c.writeRate] : [c.deleteBurst, c.deleteRate];
  }

  private bucket(key: string, op: OperationType, factor: number): TokenBucket {
    let b = this.buckets.get(key);
    if (!b) {
      const [burst, rate] = this.shape(op);
      b = new TokenBucket(burst * factor, rate * factor, this.now);
      this.buckets.set(key, b);
    }
    b.refill();
    return b;
  }

  /** Accounts one request of `principal` (token's oid/appid; '' = anonymous). */
  take(principal: string, op: OperationType): ThrottleOutcome {
    const own = this.bucket(`principal|${principal.toLowerCase()}|${op}`, op, 1);
    const global = this.bucket(`global|${op}`, op, this.config.globalFactor);
    const limitedBy = own.tokens < 1 ? 'principal' : global.tokens < 1 ? 'global' : undefined;
    let out: ThrottleOutcome;
    if (limitedBy && this.enforce) {
      const b = limitedBy === 'principal' ? own : global;
      out = { allowed: false, retryAfterSeconds: b.retryAfterSeconds(), limitedBy, headers: {} };
    } else {
      // Off: a spent bucket stays at zero (the request is served, nothing is taken).
      if (!limitedBy) {
        own.tokens -= 1;
        global.tokens -= 1;
      }
      out = { allowed: true, headers: {} };
    }
    out.headers[`x-ms-ratelimit-remaining-subscription-${op}`] = String(own.remaining());
    // Documented (third-party sources) for reads and writes only; the global delete bucket is enforced, not reported.
    if (op !== 'deletes') out.headers[`x-ms-ratelimit-remaining-subscription-global-${op}`] = String(global.remaining());
    return out;
  }

  /** Remaining tokens of every bucket used so far (the admin API shows them). */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, b] of [...this.buckets.entries()].sort(([a], [c]) => (a < c ? -1 : 1))) {
      b.refill();
      out[k] = b.remaining();
    }
    return out;
  }
}
