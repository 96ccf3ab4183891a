/**
 * The name this tool gives a role assignment: a UUIDv5 of (scope, principal, role), so re-runs are
 * idempotent and an assignment it made is recognisable by its name (the planner and the
 * emulator's seed both name assignments so).
 */
import { createHash } from 'node:crypto';

const NAMESPACE = '6f1d3c4e-9a57-4c1b-8f2e-3a0b5d7c9e21'; // apim-policy-deploy role assignments (UUIDv5 namespace)

/** UUIDv5 of (scope, principal, role), lower-cased: the same assignment always gets the same name. */
export function roleAssignmentName(scope: string, principalId: string, roleDefinitionGuid: string): string {
  const ns = Buffer.from(NAMESPACE.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(`${scope.toLowerCase()}|${principalId.toLowerCase()}|${roleDefinitionGuid.toLowerCase()}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
