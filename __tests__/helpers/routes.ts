/**
 * Driving the emulator's route handlers directly (no server): a request as the HTTP layer would
 * build it, and a call that fails loudly when no route answers.
 */
import { policyRoutes } from '../../src/emulator/arm-policies.js';
import type { EmulatorRequest, EmulatorResponse, EmulatorState, RouteHandler } from '../../src/emulator/types.js';

/** The base URL the requests claim to come to. */
export const BASE = 'https://127.0.0.1:8443';

export interface RouteOptions {
  /** A JSON value (serialised) or a string (sent as is). */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A request; `url` is a path with an optional query string, or an absolute URL under BASE. */
export function routeRequest(method: string, url: string, options: RouteOptions = {}): EmulatorRequest {
  const parsed = new URL(url.startsWith('https://') ? url : BASE + url);
  const query: Record<string, string> = {};
  parsed.searchParams.forEach((v, k) => (query[k] = v));
  return {
    method,
    path: decodeURIComponent(parsed.pathname),
    query,
    headers: options.headers ?? {},
    body: options.body === undefined ? '' : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    baseUrl: `${parsed.protocol}//${parsed.host}`,
  };
}

/** Answers `method url` with `handler` (the policy routes, which take the named value and backend routes too, by default). */
export function routeCall(state: EmulatorState, method: string, url: string, options: RouteOptions = {}, handler: RouteHandler = policyRoutes): EmulatorResponse {
  const res = handler(routeRequest(method, url, options), state);
  if (!res) throw new Error(`no route for ${method} ${url}`);
  return res;
}
