/**
 * The principals and paths the emulator's identity and RBAC routes share: deterministic GUIDs
 * for identities, the service path, request helpers.
 */
import { createHash } from 'node:crypto';
import { armError, type EmulatorResponse, type EmulatorState } from './types.js';

/** A GUID derived from a string (stable across runs). */
export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed.toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Identity of a user-assigned identity: deterministic from its resource ID. */
export function userAssignedIdentityIds(resourceId: string): { principalId: string; clientId: string } {
  return { principalId: stableGuid(`uai-principal:${resourceId}`), clientId: stableGuid(`uai-client:${resourceId}`) };
}

export const norm = (p: string) =>
  p
    .replace(/\/{2,}/g, '/')
    .replace(/\/+$/, '')
    .toLowerCase();

export function servicePath(state: EmulatorState): string {
  const t = state.target;
  return `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}/providers/Microsoft.ApiManagement/service/${t.serviceName}`;
}

export function parseJson(body: string): { value?: any; error?: EmulatorResponse } {
  if (!body.trim()) return { value: {} };
  try {
    return { value: JSON.parse(body) };
  } catch (e) {
    return { error: armError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${(e as Error).message}'.`) };
  }
}

/** The system identity's principal the emulator reports once the identity is on. */
export function systemPrincipalId(state: EmulatorState): string {
  return stableGuid(`system:${servicePath(state)}`);
}
