/**
 * Which APIM instance a run talks to, and how it logs in. One shape for CLI flags and action inputs
 * (the same words), so the plan file can record the target and apply can refuse another one.
 */
import { createHash } from 'node:crypto';

export const PUBLIC_ARM_ENDPOINT = 'https://management.azure.com';
export const DEFAULT_OIDC_AUDIENCE = 'api://AzureADTokenExchange';

export interface AzureTarget {
  armEndpoint: string;
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
}

export type AuthKind = 'oidc' | 'azure-cli' | 'default';
export const AUTH_KINDS: readonly AuthKind[] = ['oidc', 'azure-cli', 'default'];

export interface AuthSettings {
  kind: AuthKind;
  tenantId?: string;
  clientId?: string;
  /** Audience of the GitHub ID token (federated credential). */
  audience: string;
  /** Running in GitHub Actions (GITHUB_ACTIONS): where `oidc` is the default. */
  inAction: boolean;
}

/** The target settings as given, by CLI flags or action inputs; empty strings count as unset. */
export interface TargetSettings {
  armEndpoint?: string;
  subscriptionId?: string;
  resourceGroup?: string;
  serviceName?: string;
  auth?: string;
  tenantId?: string;
  clientId?: string;
  audience?: string;
}

/** A setting the user must fix; `flag` is the CLI flag (the action input has the same name). */
export class TargetSettingsError extends Error {
  override readonly name = 'TargetSettingsError';
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const present = (v: string | undefined): string | undefined => (v !== undefined && v.trim() !== '' ? v.trim() : undefined);

/** The variables a target falls back to (what `apim-policy emulator --env-file` writes, beside azure/login's). */
export const TARGET_ENV = ['AZURE_SUBSCRIPTION_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'APIM_RESOURCE_GROUP', 'APIM_SERVICE_NAME', 'APIM_ARM_ENDPOINT'] as const;

/**
 * Settles the target and auth from the words given, falling back to the variables azure/login and
 * the Azure SDKs use (`AZURE_SUBSCRIPTION_ID`, `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`) and to
 * `APIM_RESOURCE_GROUP`, `APIM_SERVICE_NAME`, `APIM_ARM_ENDPOINT`. Every missing or malformed value
 * is reported at once.
 */
export function resolveTarget(words: TargetSettings, env: NodeJS.ProcessEnv = process.env): { target: AzureTarget; auth: AuthSettings } {
  const problems: string[] = [];
  const subscriptionId = present(words.subscriptionId) ?? present(env.AZURE_SUBSCRIPTION_ID);
  const resourceGroup = present(words.resourceGroup) ?? present(env.APIM_RESOURCE_GROUP);
  const serviceName = present(words.serviceName) ?? present(env.APIM_SERVICE_NAME);
  if (!subscriptionId) problems.push('--subscription-id (input subscription-id, or AZURE_SUBSCRIPTION_ID) is required');
  else if (!GUID.test(subscriptionId)) problems.push(`--subscription-id "${subscriptionId}" is not a subscription ID (a GUID)`);
  if (!resourceGroup) problems.push('--resource-group (input resource-group, or APIM_RESOURCE_GROUP) is required');
  if (!serviceName) problems.push('--service-name (input service-name, or APIM_SERVICE_NAME): the name of the APIM instance, is required');

  let armEndpoint = present(words.armEndpoint) ?? present(env.APIM_ARM_ENDPOINT) ?? PUBLIC_ARM_ENDPOINT;
  try {
    const url = new URL(armEndpoint);
    if (url.protocol !== 'https:') problems.push(`--arm-endpoint must be https (Azure SDKs send tokens only over TLS), not ${armEndpoint}`);
    armEndpoint = url.origin + url.pathname.replace(/\/+$/, '');
  } catch {
    problems.push(`--arm-endpoint "${armEndpoint}" is not a URL`);
  }

  const inAction = env.GITHUB_ACTIONS === 'true';
  const authWord = present(words.auth);
  const kind = (authWord ?? (inAction || env.ACTIONS_ID_TOKEN_REQUEST_URL ? 'oidc' : 'default')) as AuthKind;
  if (!AUTH_KINDS.includes(kind)) problems.push(`--auth "${authWord}" is not one of ${AUTH_KINDS.join(', ')}`);
  const tenantId = present(words.tenantId) ?? present(env.AZURE_TENANT_ID);
  const clientId = present(words.clientId) ?? present(env.AZURE_CLIENT_ID);
  if (kind === 'oidc') {
    if (!tenantId) problems.push('--auth oidc needs --tenant-id (input tenant-id, or AZURE_TENANT_ID): the Entra tenant of the identity');
    if (!clientId) problems.push('--auth oidc needs --client-id (input client-id, or AZURE_CLIENT_ID): the app registration or managed identity with the federated credential');
  }
  if (problems.length) throw new TargetSettingsError(`Azure target: ${problems.join('; ')}`);
  const auth: AuthSettings = { kind, audience: present(words.audience) ?? DEFAULT_OIDC_AUDIENCE, inAction };
  if (tenantId) auth.tenantId = tenantId;
  if (clientId) auth.clientId = clientId;
  return { target: { armEndpoint, subscriptionId: subscriptionId!, resourceGroup: resourceGroup!, serviceName: serviceName! }, auth };
}

/** The ARM resource ID of the APIM instance. */
export function serviceResourceId(t: AzureTarget): string {
  return `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}/providers/Microsoft.ApiManagement/service/${t.serviceName}`;
}

/** What a plan is bound to: the cloud and the instance, case-insensitively as ARM names are. */
export function targetFingerprint(t: AzureTarget): string {
  const host = new URL(t.armEndpoint).host.toLowerCase();
  return createHash('sha256')
    .update(`${host}${serviceResourceId(t).toLowerCase()}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The token scope for an ARM endpoint: Azure's clouds take `<endpoint>/.default`; anything on
 * loopback (the local emulator) is asked for the public cloud's scope, as it expects.
 */
export function armTokenScope(armEndpoint: string): string {
  if (isLoopbackUrl(armEndpoint)) return `${PUBLIC_ARM_ENDPOINT}/.default`;
  return `${new URL(armEndpoint).origin}/.default`;
}

export function isLoopbackUrl(url: string): boolean {
  try {
    return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i.test(new URL(url).hostname);
  } catch {
    return false;
  }
}
