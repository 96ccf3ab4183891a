/**
 * Which failures of an ARM call are worth another attempt, and after how long: 429, 408 and most
 * 5xx, connection resets, and the `Retry-After` family of headers.
 */

const RESET_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EPIPE', 'ECONNABORTED']);
const RESET_MESSAGE = /socket hang up|ECONNRESET|ETIMEDOUT|ECONNREFUSED/i;
/** Nothing listens there (or the name does not resolve): on a run's first call, a wrong endpoint, not a hiccup. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND']);
const UNREACHABLE_MESSAGE = /ECONNREFUSED|ENOTFOUND/;

/** Node's codes for a certificate it does not trust (self-signed, unknown CA, wrong name, expired). */
const TLS_CODES =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_UNTRUSTED|ERR_TLS_CERT_ALTNAME_INVALID)$/;
const TLS_MESSAGE = /unable to verify the first certificate|self[- ]signed certificate|unable to get (local )?issuer certificate|certificate has expired|Hostname\/IP does not match certificate/i;

/**
 * What to do when `err` is a TLS failure (the endpoint's certificate is not trusted): undefined for
 * any other error. A retry cannot help; `NODE_EXTRA_CA_CERTS` (read once, when Node starts) can.
 */
export function tlsAdvice(err: unknown): string | undefined {
  const e = (err ?? {}) as Record<string, any>;
  const code: unknown = e.code ?? e.cause?.code;
  const message = `${String(e.message ?? '')} ${String(e.cause?.message ?? '')}`;
  if (!(typeof code === 'string' && TLS_CODES.test(code)) && !TLS_MESSAGE.test(message)) return undefined;
  const what = typeof code === 'string' && TLS_CODES.test(code) ? code : (TLS_MESSAGE.exec(message)?.[0] ?? 'TLS');
  return (
    `the TLS certificate of the endpoint is not trusted (${what}). For the local emulator, start this command with NODE_EXTRA_CA_CERTS set to the emulator's CA file: ` +
    `the path is env.NODE_EXTRA_CA_CERTS in its ready line, or run \`apim-policy emulator --write-env-file <file>\` and \`source <file>\` first ` +
    `(Node reads NODE_EXTRA_CA_CERTS only when it starts). Behind a TLS-inspecting proxy, set NODE_EXTRA_CA_CERTS to the proxy's CA.`
  );
}

/** A run's first ARM call found nothing answering at the endpoint: not retried (see the scheduler). */
export class ArmUnreachableError extends Error {
  override readonly name = 'ArmUnreachableError';
  constructor(
    readonly label: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(`${label}: nothing answers (${code})`, options);
  }
}

/** Retry-After in ms from headers: `retry-after-ms`, `x-ms-retry-after-ms`, `Retry-After` (seconds or HTTP date). */
export function parseRetryAfterMs(get: (name: string) => string | undefined, nowMs: number = Date.now()): number | undefined {
  for (const h of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = get(h);
    if (v !== undefined && v.trim() !== '' && Number.isFinite(Number(v))) return Math.max(0, Number(v));
  }
  const ra = get('retry-after');
  if (ra === undefined || ra.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Math.max(0, Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export interface Classified {
  status: number | undefined;
  code: string | undefined;
  retryable: boolean;
  reset: boolean;
  /** ECONNREFUSED / ENOTFOUND: nothing listens at the address (retried only once ARM has answered this run). */
  unreachable: boolean;
  retryAfterMs: number | undefined;
  request: unknown;
}

function headerGetter(h: unknown): (name: string) => string | undefined {
  if (!h || typeof h !== 'object') return () => undefined;
  const anyH = h as { get?: (n: string) => string | undefined } & Record<string, unknown>;
  if (typeof anyH.get === 'function') return (n) => anyH.get!(n) ?? undefined;
  return (n) => {
    for (const [k, v] of Object.entries(anyH)) if (k.toLowerCase() === n) return v === undefined ? undefined : String(v);
    return undefined;
  };
}

export function classify(err: unknown, nowMs: number): Classified {
  const e = (err ?? {}) as Record<string, any>;
  const status: number | undefined = typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : undefined;
  const code: string | undefined = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  const get = headerGetter(e.response?.headers ?? e.headers);
  const retryAfterMs = typeof e.retryAfterMs === 'number' ? e.retryAfterMs : parseRetryAfterMs(get, nowMs);
  const reset = status === undefined && ((code !== undefined && RESET_CODES.has(code)) || RESET_MESSAGE.test(String(e.message ?? '')));
  const unreachable = status === undefined && ((code !== undefined && UNREACHABLE_CODES.has(code)) || UNREACHABLE_MESSAGE.test(String(e.message ?? '')));
  const retryable = reset || status === 429 || status === 408 || (status !== undefined && status >= 500 && status !== 501 && status !== 505);
  return { status, code, retryable, reset, unreachable, retryAfterMs, request: e.request };
}
