/**
 * The emulator's seams. The HTTPS server (server.ts) parses a request into an `EmulatorRequest`,
 * checks auth, throttling and faults, logs it, and asks each `RouteHandler` in turn; handlers are
 * plain functions over the in-memory `EmulatorState`, so they can be tested without a socket.
 */

export interface EmulatorRequest {
  method: string;
  /** Path with `//` collapsed, not lower-cased (handlers match case-insensitively). */
  path: string;
  /** Query parameters; a valueless flag (`&asyncResponse`, or the SDK's `asyncResponse=undefined`) maps to ''. */
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Raw body text ('' when none). */
  body: string;
  /** `https://127.0.0.1:<port>`: handlers build absolute nextLink / Location URLs from it. */
  baseUrl: string;
}

export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is a string. Absent for HEAD and 204. */
  body?: unknown;
}

/** Returns undefined when the route is not its own, so the next handler is asked. */
export type RouteHandler = (req: EmulatorRequest, state: EmulatorState) => EmulatorResponse | undefined;

export interface StoredResource {
  /** Policy XML as APIM stores it (re-serialised), or a JSON object for identity / role assignments. */
  value: unknown;
  /** Quoted, changes on every write. */
  etag: string;
}

export interface EmulatorIdentity {
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
  tenantId: string;
  /** Client ID of the app the fake Entra issues ARM tokens to. */
  clientId: string;
}

export interface EmulatorState {
  target: EmulatorIdentity;
  /** Resources by address (the ARM path relative to the service, e.g. `apis/echo/policies/policy`), lower-cased key; see `StoredResource`. */
  resources: Map<string, { address: string } & StoredResource>;
  /** Faults configured by `POST faults`, read by handlers that simulate them (e.g. PrincipalNotFound). */
  faults: {
    principalNotFound: number;
    /** Address prefixes (lower-cased, e.g. `apis/orders`) the `allPolicies` list leaves out. */
    omitFromAllPolicies?: string[];
    /** Answer the `allPolicies` list with this status (e.g. 404, 501): a service without the list. */
    allPoliciesStatus?: number;
    /** A rawxml read answers the bare policy XML with APIM's raw content type, no JSON envelope. */
    rawxmlBare: boolean;
    /** The next this many fragment writes (long-running operations) end `Failed`, storing nothing. */
    fragmentLroFail: number;
    /**
     * The next this many Key Vault reads (a Key Vault named value's write or refresh completing) are
     * refused as if the identity's role assignment had not reached Key Vault yet: Azure RBAC's
     * propagation delay, counted rather than timed.
     */
    keyVaultDenials: number;
  };
  /** Long-running fragment writes by operation id (`tenant/operationResults/{id}`); see arm-policies.ts. */
  operations: Map<string, FragmentOperation>;
  /** Monotonic counter for ETags and IDs. */
  nextEtag(): string;
}

/**
 * A fragment PUT (or another long-running write, see `apply`) accepted but not yet provisioned: nothing is visible until a poll of its operation
 * completes it (the first poll answers InProgress, the next completes it: count-based, not timed).
 */
export interface FragmentOperation {
  id: string;
  address: string;
  /** The policy text as sent (validated when it was accepted). */
  xml: string;
  description?: string;
  polls: number;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  /** Decided when the PUT is accepted (the `fragmentLroFail` knob). */
  fail: boolean;
  started: string;
  /**
   * Another entity's long-running write (a named value PUT, PATCH or refreshSecret): what completing
   * it does, instead of storing `xml`. An error it returns ends the operation `Failed` with it.
   */
  apply?: () => void | { code: string; message: string };
  /** Why the operation failed, when `apply` said so. */
  error?: { code: string; message: string };
}

/** ARM error envelope. */
export function armError(status: number, code: string, message: string, details?: unknown[]): EmulatorResponse {
  return { status, body: { error: { code, message, ...(details ? { details } : {}) } } };
}

/** One page of `items`, with an absolute nextLink that carries every query parameter. */
export function page<T>(req: EmulatorRequest, items: T[], pageSize: number): { value: T[]; count: number; nextLink?: string } {
  const skip = Math.max(0, parseInt(req.query['$skip'] ?? '0', 10) || 0);
  const askedTop = parseInt(req.query['$top'] ?? '', 10);
  const top = askedTop > 0 ? Math.min(askedTop, pageSize) : pageSize;
  const value = items.slice(skip, skip + top);
  const result: { value: T[]; count: number; nextLink?: string } = { value, count: items.length };
  if (skip + top < items.length) {
    const query = { ...req.query, $skip: String(skip + top) };
    const qs = Object.entries(query)
      .map(([k, v]) => `${encodeURIComponent(k).replace(/^%24/, '$')}=${encodeURIComponent(v)}`)
      .join('&');
    result.nextLink = `${req.baseUrl}${req.path}?${qs}`;
  }
  return result;
}
