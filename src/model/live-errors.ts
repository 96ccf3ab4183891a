/**
 * What a `LiveWriter` / `IdentityWriter` failure means to apply and restore, whatever the
 * implementation (ARM, a test double): the ARM implementation maps HTTP statuses to these in
 * azure/, so the planner's rooms never look at a status code.
 */

/** A failure of a live read or write, with what it was about. */
export class LiveError extends Error {
  override name = 'LiveError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The resource changed since the ETag sent with If-Match (HTTP 412). */
export class PreconditionFailed extends LiveError {
  override name = 'PreconditionFailed';
}

/** The resource (or its parent) does not exist (HTTP 404). */
export class NotFound extends LiveError {
  override name = 'NotFound';
}

/** The identity of this run may not do it (HTTP 403). */
export class Forbidden extends LiveError {
  override name = 'Forbidden';
}

/** The resource exists already, or the change conflicts with one in progress (HTTP 409). */
export class Conflict extends LiveError {
  override name = 'Conflict';
}

/**
 * ARM accepted the write, then its long-running operation ended Failed: nothing was stored (e.g. a
 * Key Vault named value whose secret APIM could not read).
 */
export class OperationFailed extends LiveError {
  override name = 'OperationFailed';
}

/** The write was refused as invalid (HTTP 400, e.g. a policy APIM rejects). */
export class Rejected extends LiveError {
  override name = 'Rejected';
}
