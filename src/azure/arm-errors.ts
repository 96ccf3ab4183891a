/**
 * ARM failures a user can act on, said in their words: which identity lacks which role on which
 * scope, which instance does not exist, which policy APIM refused and why.
 */
import { Conflict, Forbidden, LiveError, NotFound, OperationFailed, PreconditionFailed, Rejected } from '../model/live-errors.js';
import type { ArmCallKind } from './scheduler.js';
import { ArmUnreachableError, tlsAdvice } from './arm-retry.js';
import { ArmRetryExhaustedError } from './scheduler.js';
import { isLoopbackUrl, serviceResourceId, type AzureTarget } from './target.js';

/** An ARM failure without a typed meaning of its own (see typedError). */
export class ArmRequestError extends LiveError {
  override name = 'ArmRequestError';
}

/** What an ARM error carries besides its message: the HTTP status and ARM's error code. */
export interface ArmErrorDetails {
  statusCode: number | undefined;
  code: string | undefined;
}

/**
 * The one place an HTTP status becomes a meaning: the typed errors of model/live-errors.ts, which
 * apply and restore act on. Each keeps the status and ARM's code for messages and logs.
 */
export function typedError(message: string, status: number | undefined, code: string | undefined, cause: unknown): LiveError & ArmErrorDetails {
  const Kind = status === 412 ? PreconditionFailed : status === 404 ? NotFound : status === 403 ? Forbidden : status === 409 ? Conflict : status === 400 ? Rejected : ArmRequestError;
  return Object.assign(new Kind(message, { cause }), { statusCode: status, code });
}

/** The HTTP status of an SDK error (RestError) or of an explained one, if any. */
export function statusOf(e: unknown): number | undefined {
  const s = (e as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function codeOf(e: unknown): string | undefined {
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'string' ? c : undefined;
}

/** The innermost detail ARM gave (e.g. a ValidationError's "Line 28, position 56"). */
function detailsOf(e: unknown): string {
  const body = (e as { details?: { error?: { message?: string; details?: Array<{ message?: string }> } } })?.details;
  const inner = body?.error?.details?.map((d) => d.message).filter(Boolean) ?? [];
  return inner.join('; ');
}

/**
 * The smallest built-in role that grants an ARM action, and where to assign it: a small table of
 * the actions this tool needs (the README's "Minimum roles").
 */
export function roleForAction(action: string): { role: string; note?: string } {
  if (/^Microsoft\.ApiManagement\/service(\/[^/]+)*\/read$/i.test(action)) return { role: 'API Management Service Reader Role' };
  if (/^Microsoft\.ApiManagement\//i.test(action)) return { role: 'API Management Service Contributor' };
  if (/^Microsoft\.Authorization\/roleAssignments\/(write|delete)$/i.test(action)) {
    return { role: 'Role Based Access Control Administrator', note: 'ideally with a condition limiting the roles it may assign' };
  }
  if (/^Microsoft\.Authorization\/[^/]+\/read$/i.test(action)) return { role: 'Reader', note: 'apply with role assignments needs Role Based Access Control Administrator there, which includes it' };
  if (/^Microsoft\.ManagedIdentity\/userAssignedIdentities\/(read|assign\/action)$/i.test(action)) return { role: 'Managed Identity Operator' };
  return { role: /\/read$/i.test(action) ? 'Reader' : 'Contributor' };
}

/**
 * ARM's 403 in the user's words: which action on which scope is missing and the role to grant.
 * `AuthorizationFailed` names them as "perform action 'A' over scope 'S'"; `LinkedAuthorizationFailed`
 * first names what the caller *may* do, then "does not have permission to perform action(s) 'B' on
 * the linked scope(s) 'T'" — the second is the missing one.
 */
export function explainForbidden(message: string, code: string | undefined, kind: ArmCallKind, service: string): string {
  const client = /client '([^']+)'/.exec(message)?.[1];
  const linked = /does not have permission to perform action\(s\) '([^']+)' on the linked scope\(s\) '([^']+)'/.exec(message);
  const direct = /perform action '([^']+)' over scope '([^']+)'/.exec(message);
  const apimDefault = kind === 'read' ? 'Microsoft.ApiManagement/service/*/read' : 'Microsoft.ApiManagement/service/*/write';
  const action = (linked?.[1] ?? direct?.[1] ?? /perform action '([^']+)'/.exec(message)?.[1] ?? apimDefault).split(',')[0]!.trim();
  const scope = linked?.[2] ?? direct?.[2] ?? /over scope '([^']+)'/.exec(message)?.[1] ?? service;
  const { role, note } = roleForAction(action);
  const apim = /^Microsoft\.ApiManagement\//i.test(action);
  // A role assignment is granted on its scope (the assignment's own ID is not a scope to assign on).
  const at = apim
    ? service
    : scope
        .split(',')[0]!
        .trim()
        .replace(/\/providers\/Microsoft\.Authorization\/role(Assignments|Definitions)\/[^/]+$/i, '') || '/';
  const where = apim ? 'the APIM instance' : 'that scope (or above)';
  return (
    `the identity${client ? ` ${client}` : ''} may not perform ${action} on ${scope}${code === 'LinkedAuthorizationFailed' || linked ? ' (a linked resource)' : ''}. ` +
    `Give it the role "${role}" on ${where}${note ? ` (${note})` : ''}:\n  az role assignment create --assignee <client-id> --role "${role}" --scope ${at}`
  );
}

export function explainArmError(e: unknown, what: string, target: AzureTarget, kind: ArmCallKind): Error {
  if (e instanceof LiveError || e instanceof ArmRetryExhaustedError) return e;
  const status = statusOf(e);
  const code = codeOf(e);
  const message = (e as Error)?.message ?? String(e);
  const service = serviceResourceId(target);
  const wrap = (text: string) => typedError(text, status, code, e);
  if (e instanceof ArmUnreachableError) {
    const hint = isLoopbackUrl(target.armEndpoint) ? 'is the emulator running? is --arm-endpoint right?' : 'is --arm-endpoint right? check the network or proxy';
    return wrap(`${what}: nothing answers at ${target.armEndpoint} (${e.code}, not retried: ARM has not answered this run once): ${hint}`);
  }
  const tls = tlsAdvice(e);
  if (tls) return wrap(`${what}: ${tls}`);
  if (status === 403) return wrap(`${what}: ${explainForbidden(message, code, kind, service)}`);
  if (status === 401) {
    return wrap(
      `${what}: ARM refused the token (${code ?? 'HTTP 401'}). Check that --tenant-id is the tenant of subscription ${target.subscriptionId} and --arm-endpoint (${target.armEndpoint}) is its cloud.`,
    );
  }
  if (status === 404 && /^(SubscriptionNotFound|ResourceGroupNotFound|ParentResourceNotFound)$/.test(code ?? '')) {
    return wrap(`${what}: ${message} Check --subscription-id, --resource-group and --service-name (${service}).`);
  }
  if (status === 404 && code === 'ResourceNotFound' && /Microsoft\.ApiManagement\/service\//i.test(message)) {
    return wrap(`${what}: the APIM instance ${service} was not found. Check --subscription-id, --resource-group and --service-name.`);
  }
  if (status === 400 && code === 'ValidationError') {
    const detail = detailsOf(e);
    return wrap(`${what}: APIM rejected the policy: ${message}${detail ? ` ${detail}` : ''}`);
  }
  if (status !== undefined) return wrap(`${what}: ARM answered ${status}${code ? ` ${code}` : ''}: ${message}`);
  // A long-running write (a fragment PUT) ARM accepted whose operation then ended Failed (core-lro's error has no status).
  if (/^The long-running operation has failed\./.test(message)) {
    const text = `${what}: ARM accepted the write but its long-running operation ended Failed: ${message.replace(/^The long-running operation has failed\.\s*/, '')}`;
    return Object.assign(new OperationFailed(text, { cause: e }), { statusCode: undefined, code });
  }
  return e instanceof Error ? e : new Error(String(e));
}
