/**
 * identity.yaml from what is live (`extract`): the instance's identities, aliases from the
 * user-assigned identities' names, and every role assignment of their principals. Planning the
 * extracted tree right after shows no identity or RBAC change. A role is written by name when it is
 * a built-in role known offline; any other (a custom role, a built-in one not listed) by its GUID
 * with the name as a comment, so lint's unknown-role has nothing to guess about.
 */
import { Document, isMap, isScalar, isSeq } from 'yaml';
import type { LiveIdentity } from '../model/live.js';
import { roleGuid } from '../model/roles.js';

export const SCHEMA_URL = 'https://raw.githubusercontent.com/apim-policy-deploy/apim-policy-deploy/main/schema/identity.schema.json';

export function renderManifest(live: LiveIdentity): string {
  const lower = (s: string) => s.toLowerCase();
  const aliases = new Map<string, string>();
  const taken = new Set<string>();
  for (const id of live.shape.userAssigned) {
    const base = (id.split('/').pop() ?? 'identity').replace(/[^A-Za-z0-9_-]/g, '-');
    let alias = base;
    for (let n = 2; taken.has(lower(alias)); n++) alias = `${base}-${n}`;
    taken.add(lower(alias));
    aliases.set(lower(id), alias);
  }
  const who = (principalId: string): string | undefined => {
    if (live.systemPrincipalId && lower(live.systemPrincipalId) === lower(principalId)) return 'system';
    for (const info of live.userAssigned.values()) if (lower(info.principalId) === lower(principalId)) return aliases.get(lower(info.resourceId));
    return undefined;
  };
  const doc: Record<string, unknown> = {
    identity: {
      systemAssigned: live.shape.systemAssigned,
      ...(live.shape.userAssigned.length ? { userAssigned: Object.fromEntries(live.shape.userAssigned.map((id) => [aliases.get(lower(id))!, id])) } : {}),
    },
  };
  const named = new Map<string, string>(); // GUID written → the name to show beside it
  const roleOf = (guid: string): string => {
    const name = live.roleNames.get(lower(guid));
    if (name !== undefined && roleGuid(name) === lower(guid)) return name;
    if (name !== undefined) named.set(lower(guid), name);
    return guid;
  };
  const assignments = live.assignments
    .map((a) => ({ identity: who(a.principalId), role: roleOf(a.roleDefinitionGuid), scope: a.scope }))
    .filter((a): a is { identity: string; role: string; scope: string } => !!a.identity)
    .sort((a, b) => a.identity.localeCompare(b.identity) || a.scope.localeCompare(b.scope) || a.role.localeCompare(b.role));
  if (assignments.length) doc.roleAssignments = assignments;
  const yaml = new Document(doc);
  const list = yaml.get('roleAssignments', true);
  for (const item of isSeq(list) ? list.items : []) {
    const role = isMap(item) ? item.get('role', true) : undefined;
    const name = isScalar(role) ? named.get(lower(String(role.value))) : undefined;
    if (isScalar(role) && name !== undefined) role.comment = ` ${name}`;
  }
  return `# yaml-language-server: $schema=${SCHEMA_URL}\n# Extracted by apim-policy-deploy: the instance's managed identities and their role assignments.\n${yaml.toString({ lineWidth: 0 })}`;
}
