/**
 * ARM's 403s in the user's words: the missing action, its scope and the smallest built-in role that
 * grants it. Messages are ARM's documented shapes (AZURE-CONTRACT.md addendum), written out here.
 */
import { explainForbidden, roleForAction } from '../../src/azure/arm-errors.js';

const SUB = '/subscriptions/11111111-2222-4333-8444-555555555555';
const S = `${SUB}/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim`;
const UAI = `${SUB}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a`;
const CLIENT = 'aaaaaaaa-0000-4000-8000-000000000001';
const OID = 'bbbbbbbb-0000-4000-8000-000000000002';

test.each([
  ['Microsoft.ApiManagement/service/read', 'API Management Service Reader Role'],
  ['Microsoft.ApiManagement/service/apis/policies/read', 'API Management Service Reader Role'],
  ['Microsoft.ApiManagement/service/allPolicies/read', 'API Management Service Reader Role'],
  ['Microsoft.ApiManagement/service/apis/policies/write', 'API Management Service Contributor'],
  ['Microsoft.ApiManagement/service/policyFragments/delete', 'API Management Service Contributor'],
  ['Microsoft.ApiManagement/service/namedValues/listValue/action', 'API Management Service Contributor'],
  ['Microsoft.ApiManagement/service/write', 'API Management Service Contributor'],
  ['Microsoft.Authorization/roleAssignments/read', 'Reader'],
  ['Microsoft.Authorization/roleDefinitions/read', 'Reader'],
  ['Microsoft.Authorization/roleAssignments/write', 'Role Based Access Control Administrator'],
  ['Microsoft.Authorization/roleAssignments/delete', 'Role Based Access Control Administrator'],
  ['Microsoft.ManagedIdentity/userAssignedIdentities/read', 'Managed Identity Operator'],
  ['Microsoft.ManagedIdentity/userAssignedIdentities/assign/action', 'Managed Identity Operator'],
])('%s → %s', (action, role) => {
  expect(roleForAction(action).role).toBe(role);
});

test('AuthorizationFailed: the action and scope of the message, the role, the command on the APIM instance for an APIM action', () => {
  const message = `The client '${CLIENT}' with object id '${OID}' does not have authorization to perform action 'Microsoft.ApiManagement/service/apis/policies/write' over scope '${S}/apis/a/policies/policy' or the scope is invalid. If access was recently granted, please refresh your credentials.`;
  const text = explainForbidden(message, 'AuthorizationFailed', 'write', S);
  expect(text).toContain(`the identity ${CLIENT} may not perform Microsoft.ApiManagement/service/apis/policies/write on ${S}/apis/a/policies/policy.`);
  expect(text).toContain(`az role assignment create --assignee <client-id> --role "API Management Service Contributor" --scope ${S}`);
});

test('a role assignment write is granted on the assignment scope, not on the assignment ID', () => {
  const scope = `${SUB}/resourceGroups/rg-data`;
  const message = `The client '${CLIENT}' with object id '${OID}' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/write' over scope '${scope}/providers/Microsoft.Authorization/roleAssignments/0f0f0f0f-1111-4222-8333-444444444444' or the scope is invalid.`;
  const text = explainForbidden(message, 'AuthorizationFailed', 'write', S);
  expect(text).toContain('Give it the role "Role Based Access Control Administrator" on that scope (or above) (ideally with a condition limiting the roles it may assign)');
  expect(text).toContain(`--role "Role Based Access Control Administrator" --scope ${scope}\n`.trimEnd());
  expect(text.endsWith(`--scope ${scope}`)).toBe(true);
});

test('LinkedAuthorizationFailed: the missing action is the second one (on the linked scope), not the one the caller has', () => {
  const message = `The client '${CLIENT}' with object id '${OID}' has permission to perform action 'Microsoft.ApiManagement/service/write' on scope '${S}'; however, it does not have permission to perform action(s) 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '${UAI}' (respectively) or the linked scope(s) are invalid.`;
  const text = explainForbidden(message, 'LinkedAuthorizationFailed', 'write', S);
  expect(text).toContain(`may not perform Microsoft.ManagedIdentity/userAssignedIdentities/assign/action on ${UAI} (a linked resource)`);
  expect(text).toContain(`--role "Managed Identity Operator" --scope ${UAI}`);
  expect(text).not.toContain('API Management Service Contributor');
});

test('a 403 without ARM’s message falls back on the kind of call, on the instance', () => {
  expect(explainForbidden('Forbidden', undefined, 'write', S)).toContain(`--role "API Management Service Contributor" --scope ${S}`);
  expect(explainForbidden('Forbidden', undefined, 'read', S)).toContain(`--role "API Management Service Reader Role" --scope ${S}`);
});
