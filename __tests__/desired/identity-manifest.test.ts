/**
 * loadIdentityManifest reads identity.yaml and the chosen environment's variables offline: the
 * values it gives, and every problem as a diagnostic with file, line, column and what to change.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE, loadIdentityManifest, type LoadedManifest } from '../../src/desired/identity-manifest.js';
import type { IdentityManifest } from '../../src/model/identity.js';
import { KNOWN_BUILT_IN_ROLES, PRIVILEGED_ROLE_GUIDS, suggestRole } from '../../src/model/roles.js';
import { normaliseScope, scopeProblem } from '../../src/model/scope.js';
import { scopeWithin } from '../../src/plan/identity.js';
import { makeTree } from '../helpers/tree.js';

const SUB = '00000000-0000-0000-0000-000000000000';
const SB = `/subscriptions/${SUB}/resourceGroups/rg-messaging/providers/Microsoft.ServiceBus/namespaces/sb-orders`;
const UAMI = `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-openai`;
const SENDER = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39';
const LABEL = 'policies';

function load(files: Record<string, string>, environment?: string): LoadedManifest {
  return loadIdentityManifest(makeTree(files), { label: LABEL, ...(environment !== undefined ? { environment } : {}) });
}

/** The manifest of a tree that must load without any diagnostic. */
function manifestOf(files: Record<string, string>, environment?: string): IdentityManifest {
  const { manifest, diagnostics } = load(files, environment);
  expect(diagnostics).toEqual([]);
  return manifest!;
}

/** `file:line:column message` of each error (a tree that must not load). */
function errorsOf(files: Record<string, string>, environment?: string): string[] {
  const { manifest, diagnostics } = load(files, environment);
  expect(manifest).toBeUndefined();
  return diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`);
}

const identityFile = join(LABEL, MANIFEST_FILE);
const at = (line: number, column: number, file = identityFile) => `${file}:${line}:${column}`;

describe('a valid identity.yaml', () => {
  const text = [
    '# yaml-language-server: $schema=../schema/identity.schema.json',
    'identity:',
    '  systemAssigned: true',
    '  userAssigned:',
    `    openai: ${UAMI}`,
    '    "search_2": //subscriptions/' + SUB + '/resourcegroups/rg-apim/providers/microsoft.managedidentity/userassignedidentities/id-search/',
    'roleAssignments:',
    '  - identity: system',
    '    role: Azure Service Bus Data Sender',
    `    scope: ${SB}`,
    '    description: send-message policy of the orders API',
    '  - identity: openai',
    '    role: cognitive services openai USER',
    `    scope: subscriptions/${SUB}/resourceGroups/rg-ai/`,
    '  - identity: search_2',
    `    role: ${SENDER.toUpperCase()}`,
    `    scope: /providers/Microsoft.Management/managementGroups/platform`,
    '  - identity: system',
    '    role: Contoso Policy Reader',
    `    scope: /subscriptions/${SUB}`,
    '  - identity: system',
    `    role: /subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${KNOWN_BUILT_IN_ROLES['Key Vault Secrets User']}`,
    `    scope: /subscriptions/${SUB}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-apim/secrets/backend-key`,
    '',
  ].join('\n');

  it('gives the identities and the role assignments, with positions, GUIDs and normalised scopes', () => {
    const manifest = manifestOf({ 'identity.yaml': text });
    expect(manifest).toEqual({
      file: 'policies/identity.yaml',
      identityLine: 2,
      systemAssigned: true,
      userAssignedDeclared: true,
      userAssigned: [
        { alias: 'openai', resourceId: UAMI, at: { file: identityFile, line: 5, column: 5 } },
        {
          alias: 'search_2',
          resourceId: `/subscriptions/${SUB}/resourcegroups/rg-apim/providers/microsoft.managedidentity/userassignedidentities/id-search`,
          at: { file: identityFile, line: 6, column: 5 },
        },
      ],
      roleAssignments: [
        {
          identity: 'system',
          role: 'Azure Service Bus Data Sender',
          roleDefinitionGuid: SENDER,
          scope: SB,
          description: 'send-message policy of the orders API',
          at: { file: identityFile, line: 8, column: 5 },
        },
        {
          identity: 'openai',
          role: 'cognitive services openai USER',
          roleDefinitionGuid: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd',
          scope: `/subscriptions/${SUB}/resourceGroups/rg-ai`,
          at: { file: identityFile, line: 12, column: 5 },
        },
        {
          identity: 'search_2',
          role: SENDER.toUpperCase(),
          roleDefinitionGuid: SENDER,
          scope: '/providers/Microsoft.Management/managementGroups/platform',
          at: { file: identityFile, line: 15, column: 5 },
        },
        // A name far from every known one may be a built-in role not listed, or a custom role: the live plan resolves it.
        {
          identity: 'system',
          role: 'Contoso Policy Reader',
          scope: `/subscriptions/${SUB}`,
          at: { file: identityFile, line: 18, column: 5 },
          roleAt: { file: identityFile, line: 19, column: 11 },
        },
        {
          identity: 'system',
          role: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
          roleDefinitionGuid: '4633458b-17de-408a-b874-0445c86b69e6',
          scope: `/subscriptions/${SUB}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-apim/secrets/backend-key`,
          at: { file: identityFile, line: 21, column: 5 },
        },
      ],
    });
  });

  it('shows the tree root itself when no label is given', () => {
    const root = makeTree({ 'identity.yaml': text });
    expect(loadIdentityManifest(root).manifest!.file).toBe(join(root, 'identity.yaml'));
  });

  it('leaves out what the file does not say', () => {
    expect(manifestOf({ 'identity.yaml': 'roleAssignments:\n  - identity: system\n    role: Reader\n    scope: /subscriptions/' + SUB + '\n' })).toEqual({
      file: identityFile,
      userAssigned: [],
      roleAssignments: [{ identity: 'system', role: 'Reader', roleDefinitionGuid: KNOWN_BUILT_IN_ROLES.Reader, scope: `/subscriptions/${SUB}`, at: { file: identityFile, line: 2, column: 5 } }],
    });
  });

  it('takes an empty file, comments only, or empty sections as saying nothing', () => {
    const empty = { file: identityFile, userAssigned: [], roleAssignments: [] };
    expect(manifestOf({ 'identity.yaml': '' })).toEqual(empty);
    expect(manifestOf({ 'identity.yaml': '# nothing yet\n' })).toEqual(empty);
    expect(manifestOf({ 'identity.yaml': 'identity:\nroleAssignments:\n  # - identity: system\n' })).toEqual({ ...empty, identityLine: 1 });
    // userAssigned written but empty: no user-assigned identity (the planner detaches live ones).
    expect(manifestOf({ 'identity.yaml': 'identity:\n  userAssigned: {}\n' })).toEqual({ ...empty, identityLine: 1, userAssignedDeclared: true });
  });

  it('is absent when the tree has no identity.yaml', () => {
    expect(load({ 'policy.xml': '<policies />' })).toEqual({ diagnostics: [] });
    expect(load({ 'policy.xml': '<policies />' }, 'prod')).toEqual({ diagnostics: [] });
  });

  it('keeps the manifest when there are only warnings', () => {
    const { manifest, diagnostics } = load({ 'identity.yaml': `roleAssignments:\n  - identity: system\n    role: Reader\n    scope: ${SB}\n    description: !note why\n` });
    expect(diagnostics.map((d) => `${d.severity} ${d.rule} ${d.line}:${d.column} ${d.message}`)).toEqual(['warning identity-manifest 5:18 Unresolved tag: !note']);
    expect(manifest?.roleAssignments[0]?.description).toBe('why');
  });
});

describe('YAML and schema problems', () => {
  it('reports YAML syntax errors where they are', () => {
    expect(errorsOf({ 'identity.yaml': 'identity:\n  systemAssigned: true\n  systemAssigned: false\n' })).toEqual([`${at(3, 3)} not valid YAML: Map keys must be unique`]);
    expect(errorsOf({ 'identity.yaml': 'roleAssignments:\n  - identity: "system\n' })).toEqual([`${at(3, 1)} not valid YAML: Missing closing "quote`]);
  });

  it("says what absurd nesting is, not the parser's stack overflow", () => {
    const errors = errorsOf({ 'identity.yaml': `identity: ${'['.repeat(20000)}${']'.repeat(20000)}\n` });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('not valid YAML: nested too deeply to read');
    expect(errors[0]).not.toMatch(/call stack/i);
  });

  it('wants a map at the top level', () => {
    expect(errorsOf({ 'identity.yaml': '- identity: system\n' })).toEqual([`${at(1, 1)} identity.yaml must be a map with identity: and roleAssignments: at the top level`]);
    expect(errorsOf({ 'identity.yaml': 'just words\n' })).toHaveLength(1);
  });

  it('says which value has the wrong type', () => {
    expect(errorsOf({ 'identity.yaml': 'identity:\n  systemAssigned: "yes"\n' })).toEqual([`${at(2, 19)} identity.systemAssigned must be true or false, not "yes"`]);
    expect(errorsOf({ 'identity.yaml': 'identity:\n  systemAssigned: yes\n' })).toEqual([`${at(2, 19)} identity.systemAssigned must be true or false, not "yes"`]);
    expect(errorsOf({ 'identity.yaml': 'roleAssignments:\n  identity: system\n' })).toEqual([`${at(2, 3)} roleAssignments must be a list (- item), not a map`]);
    expect(errorsOf({ 'identity.yaml': 'roleAssignments:\n  - system\n' })).toEqual([`${at(2, 5)} roleAssignments[0] must be a map (key: value), not "system"`]);
    expect(errorsOf({ 'identity.yaml': `roleAssignments:\n  - identity: system\n    role: 42\n    scope: ${SB}\n` })).toEqual([`${at(3, 11)} roleAssignments[0].role must be a string, not 42`]);
    expect(errorsOf({ 'identity.yaml': 'identity:\n  userAssigned:\n    openai:\n' })).toEqual([`${at(3, 12)} identity.userAssigned.openai must be a string, not empty`]);
  });

  it('names an unknown key, the allowed ones and the likely one', () => {
    expect(errorsOf({ 'identity.yaml': 'identity:\n  systemAssigned: true\nroleAsignments: []\n' })).toEqual([
      `${at(3, 1)} unknown key "roleAsignments" at the top level (did you mean "roleAssignments"?); allowed keys: identity, roleAssignments`,
    ]);
    expect(errorsOf({ 'identity.yaml': 'identity:\n  system: true\n' })).toEqual([`${at(2, 3)} unknown key "system" in identity; allowed keys: systemAssigned, userAssigned`]);
    expect(errorsOf({ 'identity.yaml': `roleAssignments:\n  - identity: system\n    role: Reader\n    scope: ${SB}\n    principalType: ServicePrincipal\n` })).toEqual([
      `${at(5, 5)} unknown key "principalType" in roleAssignments[0]; allowed keys: identity, role, scope, description`,
    ]);
  });

  it('wants identity, role and scope in every role assignment', () => {
    expect(errorsOf({ 'identity.yaml': 'roleAssignments:\n  - identity: system\n    role: Reader\n  - {scope: /subscriptions/' + SUB + '}\n' })).toEqual([
      `${at(2, 5)} roleAssignments[0] has no scope; required keys: identity, role, scope`,
      `${at(4, 5)} roleAssignments[1] has no identity; required keys: identity, role, scope`,
      `${at(4, 5)} roleAssignments[1] has no role; required keys: identity, role, scope`,
    ]);
    expect(errorsOf({ 'identity.yaml': `roleAssignments:\n  - identity: system\n    role: ""\n    scope: ${SB}\n` })).toEqual([`${at(3, 11)} roleAssignments[0].role must not be empty`]);
  });

  it('checks aliases and user-assigned resource IDs', () => {
    expect(errorsOf({ 'identity.yaml': `identity:\n  userAssigned:\n    open ai: ${UAMI}\n    system: ${UAMI.replace('id-openai', 'id-2')}\n` })).toEqual([
      `${at(3, 5)} alias "open ai" is not a valid name: use letters, digits, "-" and "_"`,
      `${at(4, 5)} alias "system" is reserved for the system-assigned identity: choose another alias`,
    ]);
    const wrongType = UAMI.replace('userAssignedIdentities', 'identities');
    expect(errorsOf({ 'identity.yaml': `identity:\n  userAssigned:\n    openai: ${wrongType}\n` })).toEqual([
      `${at(3, 13)} user-assigned identity openai: "${wrongType}" is not the resource ID of one; write ` +
        '/subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>',
    ]);
    expect(errorsOf({ 'identity.yaml': `identity:\n  userAssigned:\n    a: ${UAMI}\n    b: ${UAMI.toLowerCase()}\n` })).toEqual([
      `${at(4, 8)} user-assigned identity b is the same identity as a (line 3); declare it once`,
    ]);
  });

  it('reports an alias without its anchor instead of throwing', () => {
    expect(errorsOf({ 'identity.yaml': 'identity:\n  systemAssigned: *flag\n' })).toEqual([`${at(2, 19)} alias *flag has no anchor &flag before it`]);
  });

  it('reads anchors and aliases like any YAML', () => {
    const text = `roleAssignments:\n  - identity: system\n    role: Reader\n    scope: &sb ${SB}\n  - identity: system\n    role: Azure Service Bus Data Sender\n    scope: *sb\n`;
    const manifest = manifestOf({ 'identity.yaml': text });
    expect(manifest.roleAssignments.map((r) => r.scope)).toEqual([SB, SB]);
  });
});

describe('role assignments', () => {
  const assignment = (identity: string, role: string, scope = SB) => `  - identity: ${identity}\n    role: ${role}\n    scope: ${scope}\n`;

  it('wants "system" or a declared alias as identity', () => {
    const head = `identity:\n  userAssigned:\n    openai: ${UAMI}\nroleAssignments:\n`;
    expect(errorsOf({ 'identity.yaml': head + assignment('opnai', 'Reader') })).toEqual([
      `${at(5, 15)} identity "opnai" is neither "system" nor an alias of identity.userAssigned (aliases: openai); did you mean "openai"?`,
    ]);
    expect(errorsOf({ 'identity.yaml': 'roleAssignments:\n' + assignment('System', 'Reader') })).toEqual([
      `${at(2, 15)} identity "System" is neither "system" nor an alias of identity.userAssigned (no user-assigned identity is declared); did you mean "system"?`,
    ]);
  });

  it('refuses assignments for a system-assigned identity the manifest turns off', () => {
    expect(errorsOf({ 'identity.yaml': 'identity:\n  systemAssigned: false\nroleAssignments:\n' + assignment('system', 'Reader') })).toEqual([
      `${at(4, 15)} a role assignment for the system-assigned identity, but identity.systemAssigned is false (line 2): ` + 'it could never be made; set systemAssigned: true or remove the assignment',
    ]);
  });

  it('leaves a name not known offline to lint (unknown-role, a warning) and the live plan: custom roles exist', () => {
    expect(manifestOf({ 'identity.yaml': 'roleAssignments:\n' + assignment('system', 'Azure Service Bus Data Sendr') }).roleAssignments[0]!.role).toBe('Azure Service Bus Data Sendr');
    expect(manifestOf({ 'identity.yaml': 'roleAssignments:\n' + assignment('system', 'KeyVaultSecretsUser') }).roleAssignments[0]!.roleAt?.line).toBe(3);
    expect(errorsOf({ 'identity.yaml': 'roleAssignments:\n' + assignment('system', SENDER.slice(0, -1)) })).toEqual([
      `${at(3, 11)} role "${SENDER.slice(0, -1)}" is not a valid GUID (8-4-4-4-12 hexadecimal digits)`,
    ]);
  });

  it('reports a repeated assignment at the second, naming the first', () => {
    // By name and by GUID; the scope in another case, without its leading '/' and with a trailing one.
    const sameScope = SB.toUpperCase().replace('/SUBSCRIPTIONS', 'subscriptions') + '/';
    const text = 'roleAssignments:\n' + assignment('system', 'Azure Service Bus Data Sender') + assignment('system', SENDER, sameScope);
    expect(errorsOf({ 'identity.yaml': text })).toEqual([`${at(5, 5)} role assignment repeats the one at line 2 (same identity, role and scope); remove one`]);
    // Another identity, role or scope is another assignment.
    const others = 'roleAssignments:\n' + assignment('system', 'Reader') + assignment('system', 'Reader', `/subscriptions/${SUB}`) + assignment('system', 'Owner');
    expect(manifestOf({ 'identity.yaml': others }).roleAssignments).toHaveLength(3);
  });

  it('checks scopes', () => {
    expect(errorsOf({ 'identity.yaml': 'roleAssignments:\n' + assignment('system', 'Reader', '/subscriptions/my-sub/resourceGroups/rg') })).toEqual([
      `${at(4, 12)} scope "/subscriptions/my-sub/resourceGroups/rg" has "my-sub" where the subscription ID (a GUID) belongs; ` +
        `a resource scope looks like /subscriptions/${SUB}/resourceGroups/rg-messaging/providers/Microsoft.ServiceBus/namespaces/sb-orders`,
    ]);
  });
});

describe('scopes', () => {
  it('normalises the leading and trailing slashes, keeping case; an empty segment inside is left for scopeProblem to refuse', () => {
    expect(normaliseScope(`subscriptions/${SUB}/resourceGroups/RG/`)).toBe(`/subscriptions/${SUB}/resourceGroups/RG`);
    expect(normaliseScope(`subscriptions/${SUB}//resourceGroups/RG/`)).toBe(`/subscriptions/${SUB}//resourceGroups/RG`);
    expect(normaliseScope(`//subscriptions/${SUB}`)).toBe(`/subscriptions/${SUB}`);
    expect(normaliseScope('/')).toBe('/');
  });

  it.each([
    `/subscriptions/${SUB}`,
    `/subscriptions/${SUB}/resourceGroups/rg-(x).1`,
    `/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourcegroups/rg`,
    SB,
    `${SB}/queues/orders`,
    `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa/blobServices/default/containers/c`,
    '/providers/Microsoft.Management/managementGroups/platform',
    `subscriptions/${SUB}/`,
  ])('accepts %s', (scope) => {
    expect(scopeProblem(scope)).toBeUndefined();
  });

  it.each([
    ['', 'must start with /subscriptions/<subscription-id> (or be a management group, /providers/Microsoft.Management/managementGroups/<id>)'],
    ['/resourceGroups/rg', 'must start with /subscriptions/<subscription-id>'],
    ['/subscriptions', 'has no subscription ID after /subscriptions'],
    ['/subscriptions/prod/resourceGroups/rg', 'has "prod" where the subscription ID (a GUID) belongs'],
    [`/subscriptions/${SUB}/rg`, 'has "rg" after the subscription where /resourceGroups/<group> belongs'],
    [`/subscriptions/${SUB}/resourceGroups`, 'has no resource group name after /resourceGroups'],
    [`/subscriptions/${SUB}/resourceGroups/rg.`, 'has "rg." as resource group name, which ARM does not allow'],
    [`/subscriptions/${SUB}/resourceGroups/rg/Microsoft.ServiceBus/namespaces/sb`, 'has "Microsoft.ServiceBus" after the resource group where /providers/<Namespace>/<type>/<name> belongs'],
    [`/subscriptions/${SUB}/resourceGroups/rg/providers/namespaces/sb`, 'needs a resource provider namespace such as Microsoft.ServiceBus after /providers'],
    [`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces`, 'must go on after /providers/Microsoft.ServiceBus with <type>/<name> pairs, and "namespaces" is not'],
    [`${SB}/queues`, 'must go on after /providers/Microsoft.ServiceBus with <type>/<name> pairs, and "namespaces/sb-orders/queues" is not'],
    [`/subscriptions/${SUB}/resourceGroups/my rg`, 'contains whitespace'],
    ['/providers/Microsoft.Management/managementGroups', 'is not a management group (/providers/Microsoft.Management/managementGroups/<id>)'],
    // Ids that climb or split once they are in a URL: refused before any guardrail compares them.
    [`${SB}/../../../../../..`, 'is not a clean ARM id (segment ".." is "..", which a URL or a path reads as a folder)'],
    [`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1/../../../../../..`, 'is not a clean ARM id (segment ".."'],
    [`/subscriptions/${SUB}/resourceGroups/./providers/Microsoft.ServiceBus/namespaces/sb`, 'is not a clean ARM id (segment "." is "."'],
    [`/subscriptions/${SUB}//resourceGroups/rg`, 'is not a clean ARM id (segment "" is empty)'],
    [`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/sb%2F..%2F..`, 'is not a clean ARM id (segment "sb%2F..%2F.." contains a percent-encoded character (%XX))'],
    [`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/%2e%2e`, 'is not a clean ARM id (segment "%2e%2e" contains a percent-encoded'],
    [`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/sb\\..`, 'is not a clean ARM id (segment "sb\\\\.." contains a path separator'],
    [`/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/sb\u0000`, 'is not a clean ARM id (segment "sb\\u0000" contains a control character)'],
    // A trailing provider with no resource of its own.
    [`${SB}/providers/Microsoft.Insights`, 'ends with /providers/Microsoft.Insights: name the resource of that provider'],
    [`${SB}/providers/x/diagnosticSettings/d`, 'has "x" after a nested /providers where a resource provider namespace belongs'],
  ])('rejects "%s"', (scope, problem) => {
    const message = scopeProblem(scope)!;
    expect(message.startsWith(`scope "${scope}" ${problem}`)).toBe(true);
    expect(message).toContain('; a resource scope looks like /subscriptions/');
  });
});

describe('ids that climb', () => {
  it('are errors at their identity.yaml line, also when a variable brings them, and for user-assigned identity IDs', () => {
    const text = [
      'identity:',
      '  userAssigned:',
      `    up: /subscriptions/${SUB}/resourceGroups/../providers/Microsoft.ManagedIdentity/userAssignedIdentities/x`,
      'roleAssignments:',
      '  - identity: system',
      '    role: Reader',
      `    scope: /subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1/../../../../../..`,
      '  - identity: system',
      '    role: Reader',
      '    scope: ${CLIMB}',
      '',
    ].join('\n');
    const errors = errorsOf({ 'identity.yaml': text, 'environments/dev.yaml': `variables:\n  CLIMB: "${SB}/%2e%2e/%2e%2e"\n` }, 'dev');
    expect(errors).toEqual([
      expect.stringMatching(new RegExp(`^${at(3, 9).replace(/\./g, '\\.')} user-assigned identity up: .* is not a clean ARM id \\(segment "\\.\\." is`)),
      expect.stringMatching(new RegExp(`^${at(7, 12).replace(/\./g, '\\.')} scope ".*st1/\\.\\./\\.\\./\\.\\./\\.\\./\\.\\./\\.\\." is not a clean ARM id`)),
      expect.stringMatching(new RegExp(`^${at(10, 12).replace(/\./g, '\\.')} scope ".*/%2e%2e/%2e%2e" is not a clean ARM id`)),
    ]);
  });

  it('a role given as a role definition ID must be one (no subscription segment but a GUID)', () => {
    const role = `/subscriptions/../providers/Microsoft.Authorization/roleDefinitions/${SENDER}`;
    expect(errorsOf({ 'identity.yaml': `roleAssignments:\n  - identity: system\n    role: ${role}\n    scope: ${SB}\n` })).toEqual([
      `${at(3, 11)} role "${role}" is not a role definition ID; write /subscriptions/<subscription-id>/providers/Microsoft.Authorization/roleDefinitions/<role-guid>, the role's GUID or its name`,
    ]);
  });
});

describe('scopeWithin (allowed-scopes)', () => {
  const RG = `/subscriptions/${SUB}/resourceGroups/rg`;
  it('compares whole segments, case-insensitively', () => {
    expect(scopeWithin(`${RG}/providers/Microsoft.Storage/storageAccounts/st1`, RG)).toBe(true);
    expect(scopeWithin(RG.toUpperCase(), `${RG}/`)).toBe(true);
    expect(scopeWithin(`${RG}-other/providers/Microsoft.Storage/storageAccounts/st1`, RG)).toBe(false);
    expect(scopeWithin(`/subscriptions/${SUB}`, RG)).toBe(false);
    expect(scopeWithin(`/subscriptions/${SUB}/resourceGroups/rg`, '/')).toBe(true);
  });
  it('never lets an id climb out of the allowed scope, whichever side it is on', () => {
    expect(scopeWithin(`${RG}/providers/Microsoft.Storage/storageAccounts/st1/../../../../../..`, RG)).toBe(false);
    expect(scopeWithin(`${RG}/providers/Microsoft.Storage/storageAccounts/%2e%2e`, RG)).toBe(false);
    expect(scopeWithin(`${RG}//x`, RG)).toBe(false);
    expect(scopeWithin(RG, `${RG}/..`)).toBe(false);
    expect(scopeWithin(`/subscriptions/${SUB}`, `${RG}/../..`)).toBe(false);
  });
});

describe('built-in roles', () => {
  it('knows the roles of AZURE-CONTRACT.md §5 and the privileged ones', () => {
    expect(KNOWN_BUILT_IN_ROLES).toMatchObject({
      'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
      'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
      'Azure Event Hubs Data Sender': '2b629674-e913-4c01-ae53-ef4638d8f975',
      'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
      'Key Vault Certificate User': 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba',
      'Cognitive Services OpenAI User': '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd',
      'Cognitive Services User': 'a97b65f3-24c7-4388-baec-2e87135dc908',
      'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
      'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
      Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
      Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
      'User Access Administrator': '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
      'Role Based Access Control Administrator': 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
    });
    expect([...PRIVILEGED_ROLE_GUIDS].sort()).toEqual([
      '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
      '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
      'b24988ac-6180-42a0-ab88-20f7382dd24c',
      'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
    ]);
    for (const guid of Object.values(KNOWN_BUILT_IN_ROLES)) expect(guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(Object.values(KNOWN_BUILT_IN_ROLES)).size).toBe(Object.keys(KNOWN_BUILT_IN_ROLES).length);
  });

  it('suggests the closest name only when it is close', () => {
    expect(suggestRole('Storage Blob Data Contributer')).toBe('Storage Blob Data Contributor');
    expect(suggestRole('storage blob data reader')).toBe('Storage Blob Data Reader');
    expect(suggestRole('Ownr')).toBe('Owner');
    expect(suggestRole('Storage Blob Data Writer')).toBeUndefined();
    expect(suggestRole('Contoso Policy Reader')).toBeUndefined();
    expect(suggestRole('Custom Sendr', ['Custom Sender', 'Other'])).toBe('Custom Sender');
    expect(suggestRole('Sender', [])).toBeUndefined();
  });
});

describe('environment variables', () => {
  const identity = [
    'identity:',
    '  systemAssigned: ${SYSTEM_IDENTITY}',
    'roleAssignments:',
    '  - identity: system',
    '    role: ${ROLE}',
    '    scope: /subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ServiceBus/namespaces/${SB_NAME}',
    '    description: "sends to ${SB_NAME} (${SB_NAME})"',
    '',
  ].join('\n');
  const dev = `variables:\n  SYSTEM_IDENTITY: true\n  ROLE: Azure Service Bus Data Sender\n  SUB: ${SUB}\n  RG: rg-dev\n  SB_NAME: sb-dev\n  PORT: 8080\n`;

  it('substitutes the chosen environment, keeping the variable type for a whole plain value', () => {
    const manifest = manifestOf({ 'identity.yaml': identity, 'environments/dev.yaml': dev }, 'dev');
    expect(manifest.environment).toBe('dev');
    expect(manifest.systemAssigned).toBe(true);
    expect(manifest.roleAssignments).toEqual([
      {
        identity: 'system',
        role: 'Azure Service Bus Data Sender',
        roleDefinitionGuid: SENDER,
        scope: `/subscriptions/${SUB}/resourceGroups/rg-dev/providers/Microsoft.ServiceBus/namespaces/sb-dev`,
        description: 'sends to sb-dev (sb-dev)',
        at: { file: identityFile, line: 4, column: 5 },
      },
    ]);
  });

  it('makes a quoted reference a string', () => {
    const files = { 'identity.yaml': 'identity:\n  systemAssigned: "${SYSTEM_IDENTITY}"\n', 'environments/dev.yaml': dev };
    expect(errorsOf(files, 'dev')).toEqual([`${at(2, 19)} identity.systemAssigned must be true or false, not "true"`]);
  });

  it('reports an unknown variable where it is used, naming the environment file and the known names', () => {
    const files = { 'identity.yaml': identity.replace('${RG}', '${RESOURCE_GROUP}').replace('(${SB_NAME})', '(${SB_NAM})'), 'environments/dev.yaml': dev };
    const envFile = join(LABEL, 'environments', 'dev.yaml');
    expect(errorsOf(files, 'dev')).toEqual([
      `${at(6, 49)} unknown variable \${RESOURCE_GROUP}: ${envFile} has no variable RESOURCE_GROUP (known: PORT, RG, ROLE, SB_NAME, SUB, SYSTEM_IDENTITY)`,
      `${at(7, 40)} unknown variable \${SB_NAM}: ${envFile} has no variable SB_NAM (known: PORT, RG, ROLE, SB_NAME, SUB, SYSTEM_IDENTITY); did you mean SB_NAME?`,
    ]);
    expect(errorsOf({ 'identity.yaml': 'roleAssignments:\n  - identity: system\n    role: ${ROLE}\n    scope: ${SCOPE}\n', 'environments/dev.yaml': '' }, 'dev')).toEqual([
      `${at(3, 11)} unknown variable \${ROLE}: ${envFile} has no variable ROLE (it defines no variables)`,
      `${at(4, 12)} unknown variable \${SCOPE}: ${envFile} has no variable SCOPE (it defines no variables)`,
    ]);
  });

  it('finds references in block scalars', () => {
    const text = 'roleAssignments:\n  - identity: system\n    role: Reader\n    scope: ' + SB + '\n    description: |\n      line one\n      and ${X} here\n';
    expect(errorsOf({ 'identity.yaml': text, 'environments/dev.yaml': dev }, 'dev')).toEqual([
      `${at(7, 11)} unknown variable \${X}: ${join(LABEL, 'environments', 'dev.yaml')} has no variable X (known: PORT, RG, ROLE, SB_NAME, SUB, SYSTEM_IDENTITY)`,
    ]);
  });

  it('asks for an environment when variables are used without one', () => {
    const message = 'needs an environment: pass the `environment` input (action) or --environment <name> (CLI) to take variables from environments/<name>.yaml';
    const files = { 'identity.yaml': 'identity:\n  systemAssigned: ${SYSTEM_IDENTITY}\n', 'environments/dev.yaml': dev, 'environments/prod.yaml': dev };
    expect(errorsOf(files)).toEqual([`${at(2, 19)} \${SYSTEM_IDENTITY} ${message}; environments: dev, prod`]);
    expect(errorsOf(files, '')).toEqual([`${at(2, 19)} \${SYSTEM_IDENTITY} ${message}; environments: dev, prod`]);
    expect(errorsOf({ 'identity.yaml': 'identity:\n  systemAssigned: ${SYSTEM_IDENTITY}\n' })).toEqual([
      `${at(2, 19)} \${SYSTEM_IDENTITY} ${message}; there is no environment yet (environments/<name>.yaml with variables:)`,
    ]);
  });

  it('reports a chosen environment without a file where a variable needs it, with the ones that do', () => {
    const errors = errorsOf({ 'identity.yaml': identity, 'environments/dev.yaml': dev, 'environments/test.yaml': dev }, 'prod');
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) {
      expect(e).toMatch(new RegExp(`^${LABEL.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/identity\\.yaml:\\d+:\\d+ \\$\\{[A-Z_]+\\} cannot be resolved: environment "prod" has no variables file`));
      expect(e).toContain(`there is no ${join(LABEL, 'environments', 'prod.yaml')}; environments: dev, test`);
    }
    // identity.yaml without variables: the environment name only marks the plan comment, no file is needed.
    const plain = load({ 'identity.yaml': 'identity:\n  systemAssigned: true\n' }, 'prod');
    expect(plain.diagnostics).toEqual([]);
    expect(plain.manifest?.systemAssigned).toBe(true);
    expect(errorsOf({ 'identity.yaml': identity }, '../secrets')).toEqual([`${at(1, 1)} environment "../secrets" is not a valid name: use letters, digits, ".", "-" and "_"`]);
  });

  it('validates the substituted values and reports them at the reference', () => {
    const env = dev.replace(`SUB: ${SUB}`, 'SUB: my-subscription').replace('ROLE: Azure Service Bus Data Sender', 'ROLE: Azure Service Bus Data Sendr');
    const files = { 'identity.yaml': identity, 'environments/dev.yaml': env };
    expect(errorsOf(files, 'dev')).toEqual([
      `${at(6, 12)} scope "/subscriptions/my-subscription/resourceGroups/rg-dev/providers/Microsoft.ServiceBus/namespaces/sb-dev" ` +
        `has "my-subscription" where the subscription ID (a GUID) belongs; a resource scope looks like ${SB}`,
    ]);
  });

  it('rejects references that are not variable names', () => {
    const text = 'roleAssignments:\n  - identity: system\n    role: ${my-role}\n    scope: /subscriptions/${SUB\n';
    expect(errorsOf({ 'identity.yaml': text, 'environments/dev.yaml': dev }, 'dev')).toEqual([
      `${at(3, 11)} "\${my-role}" is not a variable reference: a name is letters, digits and "_", not starting with a digit`,
      `${at(4, 27)} "\${" has no closing "}"`,
    ]);
  });

  it('reports problems of the environment file in that file', () => {
    const envFile = join(LABEL, 'environments', 'dev.yaml');
    const files = (env: string) => ({ 'identity.yaml': 'roleAssignments:\n  - identity: system\n    role: ${ROLE}\n    scope: ' + SB + '\n', 'environments/dev.yaml': env });
    expect(errorsOf(files('variables:\n  ROLE: [Reader]\n  2ND: x\n  EMPTY:\nvars: {}\n'), 'dev')).toEqual([
      `${at(2, 9, envFile)} variable ROLE must be a string, a number or true/false`,
      `${at(3, 3, envFile)} variable name "2ND" is not valid: use letters, digits and "_", not starting with a digit`,
      `${at(4, 9, envFile)} variable EMPTY has no value`,
      `${at(5, 1, envFile)} unknown key "vars": an environment file holds only variables:`,
    ]);
    expect(errorsOf(files('variables:\n  - ROLE\n'), 'dev')).toEqual([`${at(2, 3, envFile)} variables must be a map of NAME: value`]);
    expect(errorsOf(files('- ROLE\n'), 'dev')).toEqual([`${at(1, 1, envFile)} ${envFile} must be a map with variables: at the top level`]);
    expect(errorsOf(files('variables:\n  ROLE: a\n  ROLE: b\n'), 'dev')).toEqual([`${at(3, 3, envFile)} not valid YAML: Map keys must be unique`]);
    expect(load(files('variables:\n  ROLE: a\n  ROLE: b\n'), 'dev').diagnostics.map((d) => d.rule)).toEqual(['identity-variables']);
  });
});

describe('the published JSON Schema', () => {
  const published = JSON.parse(readFileSync(new URL('../../schema/identity.schema.json', import.meta.url), 'utf8'));

  it('is the schema the loader validates with (the generated validator is fresh)', () => {
    const check = spawnSync(process.execPath, ['scripts/gen-validators.mjs', '--check'], { cwd: new URL('../..', import.meta.url), encoding: 'utf8' });
    expect([check.status, check.stderr]).toEqual([0, '']);
  });

  it('offers the known built-in role names for completion', () => {
    expect(published.properties.roleAssignments.items.properties.role.examples).toEqual(Object.keys(KNOWN_BUILT_IN_ROLES).sort());
  });

  it('describes every property for editors and allows no other', () => {
    const check = (schema: Record<string, any>, path: string): void => {
      expect([path, typeof schema.description, typeof schema.markdownDescription]).toEqual([path, 'string', 'string']);
      if (schema.properties) {
        expect([path, schema.additionalProperties]).toEqual([path, false]);
        for (const [name, child] of Object.entries(schema.properties)) check(child as Record<string, any>, `${path}.${name}`);
      }
      if (schema.items) check(schema.items, `${path}[]`);
      if (typeof schema.additionalProperties === 'object') check(schema.additionalProperties, `${path}.*`);
    };
    check(published, '');
  });

  it('accepts its own example', () => {
    const [example] = published.examples;
    const yaml = JSON.stringify(example);
    const env = `variables:\n  OPENAI_SCOPE: /subscriptions/${SUB}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/oai\n`;
    const manifest = manifestOf({ 'identity.yaml': yaml, 'environments/dev.yaml': env }, 'dev');
    expect(manifest.roleAssignments.map((r) => r.roleDefinitionGuid)).toEqual([SENDER, KNOWN_BUILT_IN_ROLES['Cognitive Services OpenAI User']]);
  });
});
