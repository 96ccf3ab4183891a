/**
 * Role-assignment scopes (ARM resource IDs, resource groups, subscriptions, management groups):
 * one spelling, the shapes ARM accepts, and the resource a scope names.
 */
import { idSegmentsProblem } from './arm-id.js';

export const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const IS_GUID = new RegExp(`^${GUID}$`);
const SCOPE_EXAMPLE = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-messaging/providers/Microsoft.ServiceBus/namespaces/sb-orders';
/** ARM's resource group names: letters, digits, '_', '-', '.', '(' and ')', not ending with '.'. */
const RESOURCE_GROUP = /^[\p{L}\p{N}_().-]*[\p{L}\p{N}_()-]$/u;
const PROVIDER_NAMESPACE = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$/;

/**
 * One leading '/' (however many were written, or none), no trailing '/'; case kept. Nothing
 * else: an empty segment inside (`a//b`), `.` or `..` stays, for scopeProblem to refuse — a
 * normaliser here and URL resolution later could read such an id differently.
 */
export function normaliseScope(scope: string): string {
  const led = `/${scope.replace(/^\/+/, '')}`;
  return led.length > 1 ? led.replace(/\/$/, '') : led;
}

/** What is wrong with a normalised scope, or undefined. */
function scopeShapeProblem(scope: string): string | undefined {
  if (/\s/.test(scope)) return 'contains whitespace';
  const parts = scope.split('/').slice(1);
  // Before the shape: `…/st1/../../../../../..` has the shape of a resource and resolves to the subscription.
  const unsafe = scope === '/' ? undefined : idSegmentsProblem(parts);
  if (unsafe) return `is not a clean ARM id (${unsafe}); write the resource's ID as the portal shows it, without "." or ".." segments, empty segments, "\\" or %-escapes`;
  const lower = parts.map((p) => p.toLowerCase());
  if (lower[0] === 'providers') {
    if (lower[1] === 'microsoft.management' && lower[2] === 'managementgroups' && parts.length === 4) return undefined;
    return 'is not a management group (/providers/Microsoft.Management/managementGroups/<id>)';
  }
  if (lower[0] !== 'subscriptions') {
    return 'must start with /subscriptions/<subscription-id> (or be a management group, /providers/Microsoft.Management/managementGroups/<id>)';
  }
  if (parts.length < 2) return 'has no subscription ID after /subscriptions';
  if (!IS_GUID.test(parts[1]!)) return `has "${parts[1]}" where the subscription ID (a GUID) belongs`;
  if (parts.length === 2) return undefined;
  if (lower[2] !== 'resourcegroups') return `has "${parts[2]}" after the subscription where /resourceGroups/<group> belongs`;
  if (parts.length < 4) return 'has no resource group name after /resourceGroups';
  if (!RESOURCE_GROUP.test(parts[3]!)) return `has "${parts[3]}" as resource group name, which ARM does not allow`;
  if (parts.length === 4) return undefined;
  if (lower[4] !== 'providers') return `has "${parts[4]}" after the resource group where /providers/<Namespace>/<type>/<name> belongs`;
  if (parts.length < 6 || !PROVIDER_NAMESPACE.test(parts[5]!)) return 'needs a resource provider namespace such as Microsoft.ServiceBus after /providers';
  const rest = parts.slice(6);
  if (rest.length === 0 || rest.length % 2 !== 0) {
    return `must go on after /providers/${parts[5]} with <type>/<name> pairs, and "${rest.join('/')}" is not`;
  }
  // An extension resource (…/providers/Microsoft.Insights/diagnosticSettings/x) names its own namespace and at least one <type>/<name>.
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i]!.toLowerCase() !== 'providers') continue;
    if (!PROVIDER_NAMESPACE.test(rest[i + 1]!)) return `has "${rest[i + 1]}" after a nested /providers where a resource provider namespace belongs`;
    if (i + 2 >= rest.length) return `ends with /providers/${rest[i + 1]}: name the resource of that provider (<type>/<name>) or drop the provider`;
  }
  return undefined;
}

/** Normalises and validates an ARM scope; returns an error message (what is wrong + an example) or undefined. */
export function scopeProblem(scope: string): string | undefined {
  const problem = scopeShapeProblem(normaliseScope(scope));
  return problem && `scope "${scope}" ${problem}; a resource scope looks like ${SCOPE_EXAMPLE}`;
}

export interface ScopeResource {
  /** "Microsoft.ServiceBus/namespaces", as written. */
  type: string;
  name: string;
  /** Segments after the name (child type/name pairs). */
  rest: string[];
  /** The scope cut after the resource's name. */
  resourceScope: string;
}

/**
 * The resource a scope names: the last `providers/<namespace>/<type>/<name>`. Undefined for scopes
 * above any resource (subscription, resource group, management group).
 */
export function scopeResource(scope: string): ScopeResource | undefined {
  const parts = scope.split('/');
  const i = parts.map((p) => p.toLowerCase()).lastIndexOf('providers');
  if (i < 0 || parts.length < i + 4 || parts[i + 1]!.toLowerCase() === 'microsoft.management') return undefined;
  return { type: `${parts[i + 1]}/${parts[i + 2]}`, name: parts[i + 3]!, rest: parts.slice(i + 4), resourceScope: parts.slice(0, i + 4).join('/') };
}
