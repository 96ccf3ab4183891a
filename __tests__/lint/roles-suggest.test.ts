/**
 * Role names that are not built-in roles known offline (model/roles.ts, model/closest-name.ts):
 * the suggestion by spelling and by words, on a table of realistic slips, and names that must
 * not be taken for a built-in role (custom roles, ambiguous ones). And the lint rule unknown-role:
 * a warning at the role's line, never an error, quiet for known names, GUIDs and role IDs.
 */
import { relative } from 'node:path';
import { loadDesiredTree } from '../../src/desired/load-desired.js';
import { lintTree } from '../../src/lint/index.js';
import { RULES } from '../../src/lint/rules/index.js';
import { closestByWords, wordDistance } from '../../src/model/closest-name.js';
import { KNOWN_BUILT_IN_ROLES, suggestRole } from '../../src/model/roles.js';
import { makeTree, policy } from '../helpers/tree.js';

// What people write instead of the built-in name: a missing or extra word, a plural, a typo, together.
const SLIPS: Array<[written: string, meant: string]> = [
  ['Azure Service Bus Sender', 'Azure Service Bus Data Sender'],
  ['Azure Service Bus Receiver', 'Azure Service Bus Data Receiver'],
  ['Service Bus Data Sender', 'Azure Service Bus Data Sender'],
  ['Storage Blob Reader', 'Storage Blob Data Reader'],
  ['Storage Blob Contributor', 'Storage Blob Data Contributor'],
  ['Storage Queue Data Sender', 'Storage Queue Data Message Sender'],
  ['Key Vault Secret User', 'Key Vault Secrets User'],
  ['Key Vault Secret Users', 'Key Vault Secrets User'],
  ['Key Vault Certificates User', 'Key Vault Certificate User'],
  ['Azure Event Hub Data Receiver', 'Azure Event Hubs Data Receiver'],
  ['Event Hubs Data Sender', 'Azure Event Hubs Data Sender'],
  ['Cognitive Service OpenAI User', 'Cognitive Services OpenAI User'],
  ['Cognitive Services Open AI User', 'Cognitive Services OpenAI User'],
  ['Azure Servce Bus Sender', 'Azure Service Bus Data Sender'], // a typo and a missing word
  ['Storage Blob Data Contributer', 'Storage Blob Data Contributor'],
  ['API Management Service Reader', 'API Management Service Reader Role'],
  ['Monitoring Metric Publisher', 'Monitoring Metrics Publisher'],
  ['storage blob data reader ', 'Storage Blob Data Reader'],
  ['KeyVaultSecretUser', 'Key Vault Secrets User'], // no spaces: by spelling
];

// Custom roles (a replaced word is another role, not a slip), names too vague to pick one, unrelated names.
const NOT_A_SLIP = [
  'Storage Blob Data Writer',
  'Azure Service Bus Data Publisher',
  'Contoso Service Bus Publisher',
  'Key Vault Secrets Writer',
  'Key Vault User', // Secrets, Certificate or Crypto: two or more are equally close
  'Data Reader',
  'Orders API Caller',
  'APIM Policy Deployer',
  'Storage Account Key Operator',
  'Reader Plus',
];

describe('suggestRole', () => {
  test.each(SLIPS)('%s → %s', (written, meant) => {
    expect(KNOWN_BUILT_IN_ROLES[meant]).toBeDefined();
    expect(suggestRole(written)).toBe(meant);
  });

  test.each(NOT_A_SLIP)('%s → nothing', (written) => {
    expect(suggestRole(written)).toBeUndefined();
  });

  test('the word-level part on its own: what it tolerates and what it counts', () => {
    expect(wordDistance('Azure Service Bus Sender', 'Azure Service Bus Data Sender')).toEqual({ unmatched: 1, typos: 0 });
    expect(wordDistance('Key Vault Secret User', 'Key Vault Secrets User')).toEqual({ unmatched: 0, typos: 0 });
    expect(wordDistance('Azure Servce Bus Sender', 'Azure Service Bus Data Sender')).toEqual({ unmatched: 1, typos: 1 });
    expect(wordDistance('Data Sender Azure Service Bus', 'Azure Service Bus Data Sender')).toEqual({ unmatched: 0, typos: 0 });
    expect(wordDistance('Storage Blob Data Writer', 'Storage Blob Data Reader')).toBeUndefined(); // missing and extra: two
    expect(wordDistance('Reader', 'Key Vault Reader')).toBeUndefined(); // one word in common is not enough
    // The spelling search alone misses what a missing word does to the length.
    expect(closestByWords('Storage Blob Reader', Object.keys(KNOWN_BUILT_IN_ROLES))).toBe('Storage Blob Data Reader');
    // The live list of names (custom roles included) is searched the same way.
    expect(suggestRole('Contoso Orders Reader', ['Contoso Orders Data Reader', 'Reader'])).toBe('Contoso Orders Data Reader');
  });
});

describe('unknown-role', () => {
  const SUB = '00000000-0000-0000-0000-000000000000';
  const SB = `/subscriptions/${SUB}/resourceGroups/rg-integration/providers/Microsoft.ServiceBus/namespaces/sb-orders`;
  const assignment = (role: string) => ['  - identity: system', `    role: ${role}`, `    scope: ${SB}`];

  async function lint(roles: string[]): Promise<string[]> {
    const root = makeTree({ 'policy.xml': policy(), 'identity.yaml': ['identity:', '  systemAssigned: true', 'roleAssignments:', ...roles.flatMap(assignment)].join('\n') + '\n' });
    const tree = await loadDesiredTree(root);
    expect(tree.diagnostics).toEqual([]);
    return lintTree(tree, { rules: RULES })
      .filter((d) => d.rule === 'unknown-role')
      .map((d) => `${relative(root, d.file)}:${d.line}:${d.column} ${d.severity}: ${d.message}`);
  }

  test('a name not known offline is a warning at its role line, with the suggestion when there is one', async () => {
    const n = Object.keys(KNOWN_BUILT_IN_ROLES).length;
    const tail = (role: string) =>
      ` A custom role (or another built-in one) is fine: the plan looks "${role}" up at ${SB} and stops if Azure has no role of that name; write its role definition GUID to skip the lookup`;
    expect(await lint(['Azure Service Bus Sender', 'Azure Service Bus Data Sender', 'Contoso Orders Reader', 'Key Vault Secret User'])).toEqual([
      `identity.yaml:5:11 warning: role "Azure Service Bus Sender" is not one of the ${n} built-in roles known offline; did you mean "Azure Service Bus Data Sender"?${tail('Azure Service Bus Sender')}`,
      `identity.yaml:11:11 warning: role "Contoso Orders Reader" is not one of the ${n} built-in roles known offline.${tail('Contoso Orders Reader')}`,
      `identity.yaml:14:11 warning: role "Key Vault Secret User" is not one of the ${n} built-in roles known offline; did you mean "Key Vault Secrets User"?${tail('Key Vault Secret User')}`,
    ]);
  });

  test('known names in any case, GUIDs and role definition IDs are quiet', async () => {
    const receiver = KNOWN_BUILT_IN_ROLES['Azure Service Bus Data Receiver']!;
    const owner = KNOWN_BUILT_IN_ROLES['Azure Service Bus Data Owner']!;
    expect(await lint(['azure service bus data sender', receiver, `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${owner}`, 'Managed Identity Operator'])).toEqual([]);
  });
});
