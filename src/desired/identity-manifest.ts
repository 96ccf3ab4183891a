/**
 * Loads `identity.yaml`, the APIM instance's managed identities and the role assignments they need
 * (README, "identity.yaml: managed identities and role assignments"), with the variables of the
 * chosen environment (`environments/<name>.yaml`, identity-variables.ts). Offline: it reads files,
 * never Azure. Bad content never throws: every problem is a diagnostic with the file, line and
 * column of the YAML node concerned.
 */
import { join } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import { idSegmentsProblem } from '../model/arm-id.js';
import type { IdentityManifest, RoleAssignmentSpec, UserAssignedIdentitySpec } from '../model/identity.js';
import { closestManifestName } from '../model/closest-name.js';
import type { Diagnostic } from '../model/index.js';
import { roleGuid } from '../model/roles.js';
import { GUID, normaliseScope, scopeProblem } from '../model/scope.js';
import { schemaDiagnostic, schemaErrors } from './identity-schema.js';
import { environmentNames, loadVariables, substitute, type Variables } from './identity-variables.js';
import { MANIFEST_RULE, deref, diagnosticAt, entry, keyText, locationOf, parseYaml, valueNodes, type YamlFile } from './identity-yaml.js';
import { FILE_LIMITS, FileRefusedError, readTreeText } from './safe-file.js';

export const MANIFEST_FILE = 'identity.yaml';

export interface LoadedManifest {
  /** Set when identity.yaml exists and has no error (warnings allow it). */
  manifest?: IdentityManifest;
  diagnostics: Diagnostic[];
}

const USER_ASSIGNED_ID = new RegExp(`^/subscriptions/${GUID}/resourceGroups/[^/\\s]+/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/[^/\\s]+$`, 'i');
const USER_ASSIGNED_EXAMPLE = '/subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>';

function buildManifest(f: YamlFile, unresolved: Set<Node>, diagnostics: Diagnostic[]): IdentityManifest {
  const manifest: IdentityManifest = { file: f.shown, userAssigned: [], roleAssignments: [] };
  /** A string value that substitution resolved, else undefined (a wrong type is a schema error). */
  const text = (node: Node | undefined): string | undefined => (isScalar(node) && typeof node.value === 'string' && !unresolved.has(node) ? node.value : undefined);
  const top = f.doc.contents;
  const { key: identityKey, value: identity } = entry(f, top, 'identity');
  if (identityKey) manifest.identityLine = locationOf(f, identityKey).line;
  const system = entry(f, identity, 'systemAssigned').value;
  if (isScalar(system) && typeof system.value === 'boolean') manifest.systemAssigned = system.value;

  const aliases: string[] = [];
  const { key: userAssignedKey, value: userAssigned } = entry(f, identity, 'userAssigned');
  if (userAssignedKey) manifest.userAssignedDeclared = true;
  const seenIds = new Map<string, UserAssignedIdentitySpec>();
  for (const pair of isMap(userAssigned) ? userAssigned.items : []) {
    const alias = keyText(pair.key);
    aliases.push(alias);
    const id = text(deref(f, pair.value));
    if (id === undefined) continue;
    const resourceId = normaliseScope(id);
    const unsafe = idSegmentsProblem(resourceId.split('/').slice(1));
    if (unsafe) {
      diagnostics.push(diagnosticAt(locationOf(f, pair.value), `user-assigned identity ${alias}: "${id}" is not a clean ARM id (${unsafe}); write ${USER_ASSIGNED_EXAMPLE}`));
      continue;
    }
    if (!USER_ASSIGNED_ID.test(resourceId)) {
      const message = `user-assigned identity ${alias}: "${id}" is not the resource ID of one; write ${USER_ASSIGNED_EXAMPLE}`;
      diagnostics.push(diagnosticAt(locationOf(f, pair.value), message));
      continue;
    }
    const spec: UserAssignedIdentitySpec = { alias, resourceId, at: locationOf(f, pair.key) };
    const same = seenIds.get(resourceId.toLowerCase());
    if (same) {
      const message = `user-assigned identity ${alias} is the same identity as ${same.alias} (line ${same.at.line}); declare it once`;
      diagnostics.push(diagnosticAt(locationOf(f, pair.value), message));
      continue;
    }
    seenIds.set(resourceId.toLowerCase(), spec);
    manifest.userAssigned.push(spec);
  }

  const assignments = entry(f, top, 'roleAssignments').value;
  const seenAssignments = new Map<string, RoleAssignmentSpec>();
  for (const item of isSeq(assignments) ? assignments.items.map((i) => deref(f, i)) : []) {
    if (!isMap(item)) continue;
    const identityNode = entry(f, item, 'identity').value;
    const roleNode = entry(f, item, 'role').value;
    const scopeNode = entry(f, item, 'scope').value;
    const who = text(identityNode);
    const role = text(roleNode);
    const scope = text(scopeNode);
    let complete = who !== undefined && role !== undefined && scope !== undefined;

    if (who === 'system' && manifest.systemAssigned === false) {
      diagnostics.push(
        diagnosticAt(
          locationOf(f, identityNode),
          `a role assignment for the system-assigned identity, but identity.systemAssigned is false (line ${locationOf(f, system).line}): ` +
            'it could never be made; set systemAssigned: true or remove the assignment',
        ),
      );
      complete = false;
    } else if (who !== undefined && who !== 'system' && !aliases.includes(who)) {
      const suggestion = closestManifestName(who, ['system', ...aliases]);
      const declared = aliases.length ? `aliases: ${aliases.join(', ')}` : 'no user-assigned identity is declared';
      diagnostics.push(
        diagnosticAt(locationOf(f, identityNode), `identity "${who}" is neither "system" nor an alias of identity.userAssigned (${declared})${suggestion ? `; did you mean "${suggestion}"?` : ''}`),
      );
      complete = false;
    }

    const guid = role === undefined ? undefined : roleGuid(role);
    if (role !== undefined && guid === undefined && role.trim().startsWith('/')) {
      diagnostics.push(
        diagnosticAt(
          locationOf(f, roleNode),
          `role "${role}" is not a role definition ID; write /subscriptions/<subscription-id>/providers/Microsoft.Authorization/roleDefinitions/<role-guid>, the role's GUID or its name`,
        ),
      );
      complete = false;
    } else if (role !== undefined && guid === undefined && /^[0-9a-f-]{30,}$/i.test(role)) {
      diagnostics.push(diagnosticAt(locationOf(f, roleNode), `role "${role}" is not a valid GUID (8-4-4-4-12 hexadecimal digits)`));
      complete = false;
    }
    // A name not known offline may be a custom role or an unlisted built-in one: lint's unknown-role warns (with a suggestion), the live plan resolves it.

    const problem = scope === undefined ? undefined : scopeProblem(scope);
    if (problem) {
      diagnostics.push(diagnosticAt(locationOf(f, scopeNode), problem));
      complete = false;
    }
    if (!complete) continue;

    const spec: RoleAssignmentSpec = { identity: who!, role: role!, scope: normaliseScope(scope!), at: locationOf(f, item) };
    if (guid) spec.roleDefinitionGuid = guid;
    else spec.roleAt = locationOf(f, roleNode);
    const description = text(entry(f, item, 'description').value);
    if (description !== undefined) spec.description = description;
    const key = [spec.identity, guid ?? spec.role.toLowerCase(), spec.scope.toLowerCase()].join('\n');
    const first = seenAssignments.get(key);
    if (first) {
      diagnostics.push(diagnosticAt(spec.at, `role assignment repeats the one at line ${first.at.line} (same identity, role and scope); remove one`));
      continue;
    }
    seenAssignments.set(key, spec);
    manifest.roleAssignments.push(spec);
  }
  return manifest;
}

const byPosition = (a: Diagnostic, b: Diagnostic): number => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column;

/**
 * Loads `<root>/identity.yaml` with the variables of `options.environment` (an empty string counts
 * as none, as an unset action input is). No identity.yaml → { diagnostics: [] }.
 */
export function loadIdentityManifest(root: string, options: { environment?: string; label?: string } = {}): LoadedManifest {
  const shownRoot = options.label ?? root;
  const shown = join(shownRoot, MANIFEST_FILE);
  let text: string | undefined;
  try {
    text = readTreeText(join(root, MANIFEST_FILE), { root, maxBytes: FILE_LIMITS.config, label: shown, what: MANIFEST_FILE, missingOk: true });
  } catch (e) {
    if (!(e instanceof FileRefusedError)) throw e;
    return { diagnostics: [diagnosticAt({ file: shown, line: 1, column: 1 }, e.reason)] };
  }
  if (text === undefined) return { diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const environment = options.environment || undefined;
  const variables: Variables = environment === undefined ? { kind: 'none', available: environmentNames(root) } : loadVariables(root, shownRoot, environment, shown, diagnostics);
  const result = (manifest?: IdentityManifest): LoadedManifest => {
    diagnostics.sort(byPosition);
    return manifest && !diagnostics.some((d) => d.severity === 'error') ? { manifest, diagnostics } : { diagnostics };
  };

  const f = parseYaml(shown, text, MANIFEST_RULE, diagnostics);
  if (!f) return result();
  const top = f.doc.contents;
  if (top !== null && !isMap(top)) {
    diagnostics.push(diagnosticAt(locationOf(f, top), `${MANIFEST_FILE} must be a map with identity: and roleAssignments: at the top level`));
    return result();
  }
  const unresolved = substitute(f, variables, diagnostics);
  for (const node of valueNodes(top)) {
    if (isAlias(node) && !node.resolve(f.doc)) diagnostics.push(diagnosticAt(locationOf(f, node), `alias *${node.source} has no anchor &${node.source} before it`));
  }
  let data: unknown;
  try {
    data = f.doc.toJS() ?? {};
  } catch (e) {
    // Only anchors and aliases make toJS throw (an alias in a key, too many aliases); those in values are reported above.
    if (!diagnostics.some((d) => d.severity === 'error')) diagnostics.push(diagnosticAt(locationOf(f, top), `not valid YAML: ${(e as Error).message}`));
    return result();
  }
  for (const e of schemaErrors(data)) {
    const diagnostic = schemaDiagnostic(f, e, unresolved);
    if (diagnostic) diagnostics.push(diagnostic);
  }
  const manifest = buildManifest(f, unresolved, diagnostics);
  if (environment !== undefined) manifest.environment = environment;
  return result(manifest);
}
