/**
 * The ARM calls this tool may make, written from the REST specs (not from the product): APIM
 * 2024-05-01 (`apimpolicies.json`, `apimapis.json`, `apimpolicyfragments.json`, `apimallpolicies.json`,
 * `apimworkspaces.json`, `apimnamedvalues.json`, `apimbackends.json`, `apimworkspacebackends.json`, `apimcertificates.json`,
 * `apimproducts.json`, `apimdeployment.json`), Authorization 2022-04-01 (role assignments and
 * definitions) and ManagedIdentity 2024-11-30. Each row is one operation: method, path below
 * `/subscriptions/{subscriptionId}`, api-version, the query parameters the spec declares, whether
 * `If-Match` is required / optional / not a parameter, and the body's required and allowed keys
 * (`properties.x` for keys inside `properties`).
 */
export interface ContractRow {
  operation: string;
  method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST' | 'HEAD';
  path: RegExp;
  apiVersion: string;
  /** Query parameters besides api-version that the spec declares. */
  query?: string[];
  /** Required query parameters and the values the spec allows. */
  queryValues?: Record<string, RegExp>;
  ifMatch: 'required' | 'optional' | 'none';
  body?: { required: string[]; allowed: string[] };
}

const NAME = '[^/]+';
const SVC = `/resourceGroups/${NAME}/providers/Microsoft\\.ApiManagement/service/${NAME}`;
/** A policy scope below the service, or inside a workspace: global, API, operation, product. */
const POLICY_SCOPES = `(?:/workspaces/${NAME})?(?:/apis/${NAME}(?:/operations/${NAME})?|/products/${NAME})?`;
/** Any ARM scope a role assignment can live at: the subscription, a resource group, a resource (and children). */
const SCOPE = `(?:/resourceGroups/${NAME}(?:/providers/[^/]+(?:/${NAME}/${NAME})+)?)?`;
const re = (s: string) => new RegExp(`^${s}$`, 'i');
const APIM = '2024-05-01';
const AUTHZ = '2022-04-01';
const LIST = ['$filter', '$top', '$skip'];

const policyBody = { required: ['properties', 'properties.value'], allowed: ['properties', 'properties.value', 'properties.format'] };
const fragmentBody = { required: ['properties', 'properties.value'], allowed: ['properties', 'properties.value', 'properties.format', 'properties.description'] };
const FORMAT = { format: /^(xml|rawxml)$/ };
/** `NamedValueCreateContract` (2024-05-01 definitions.json): displayName required; value, secret, tags, keyVault. */
const namedValueBody = {
  required: ['properties', 'properties.displayName'],
  allowed: ['properties', 'properties.displayName', 'properties.value', 'properties.secret', 'properties.tags', 'properties.keyVault'],
};
/** `BackendContract`: url and protocol required (BackendContractProperties), the rest from BackendBaseParameters. */
const backendBody = {
  required: ['properties', 'properties.url', 'properties.protocol'],
  allowed: ['properties', ...['url', 'protocol', 'title', 'description', 'resourceId', 'properties', 'credentials', 'proxy', 'tls', 'circuitBreaker', 'pool', 'type'].map((k) => `properties.${k}`)],
};
const ENTITY = (collection: string) => re(`${SVC}/${collection}/${NAME}`);
/** The same entity inside a workspace (`apimworkspaces.json` WorkspaceNamedValue_*, `apimworkspacebackends.json` WorkspaceBackend_*). */
const WS_ENTITY = (collection: string) => re(`${SVC}/workspaces/${NAME}/${collection}/${NAME}`);

export const ARM_CONTRACT: ContractRow[] = [
  { operation: 'ApiManagementService_Get', method: 'GET', path: re(SVC), apiVersion: APIM, ifMatch: 'none' },
  {
    operation: 'ApiManagementService_Update',
    method: 'PATCH',
    path: re(SVC),
    apiVersion: APIM,
    ifMatch: 'none',
    body: { required: [], allowed: ['identity', 'properties', 'sku', 'tags', 'zones'] },
  },
  // A long-running operation's status, at the URL ARM named in Azure-AsyncOperation / Location (the
  // SDK re-sends the call's If-Match and any valueless flag as `=undefined`).
  { operation: 'LRO status (service)', method: 'GET', path: re(`${SVC}/operationresults/${NAME}`), apiVersion: APIM, query: ['asyncResponse'], ifMatch: 'optional' },
  { operation: 'LRO status (tenant)', method: 'GET', path: re(`${SVC}/tenant/operationResults/${NAME}`), apiVersion: APIM, query: ['asyncResponse'], ifMatch: 'optional' },
  { operation: 'AllPolicies_ListByService', method: 'GET', path: re(`${SVC}/allPolicies`), apiVersion: APIM, query: LIST, ifMatch: 'none' },
  { operation: 'Workspace_ListByService', method: 'GET', path: re(`${SVC}/workspaces`), apiVersion: APIM, query: LIST, ifMatch: 'none' },
  { operation: 'Api_ListByService', method: 'GET', path: re(`${SVC}(?:/workspaces/${NAME})?/apis`), apiVersion: APIM, query: [...LIST, 'tags', 'expandApiVersionSet'], ifMatch: 'none' },
  { operation: 'ApiOperation_ListByApi', method: 'GET', path: re(`${SVC}(?:/workspaces/${NAME})?/apis/${NAME}/operations`), apiVersion: APIM, query: [...LIST, 'tags'], ifMatch: 'none' },
  { operation: 'Product_ListByService', method: 'GET', path: re(`${SVC}(?:/workspaces/${NAME})?/products`), apiVersion: APIM, query: [...LIST, 'expandGroups', 'tags'], ifMatch: 'none' },
  { operation: 'NamedValue_ListByService', method: 'GET', path: re(`${SVC}/namedValues`), apiVersion: APIM, query: [...LIST, 'isKeyVaultRefreshFailed'], ifMatch: 'none' },
  { operation: 'WorkspaceNamedValue_ListByService', method: 'GET', path: re(`${SVC}/workspaces/${NAME}/namedValues`), apiVersion: APIM, query: [...LIST, 'isKeyVaultRefreshFailed'], ifMatch: 'none' },
  { operation: 'Backend_ListByService', method: 'GET', path: re(`${SVC}/backends`), apiVersion: APIM, query: LIST, ifMatch: 'none' },
  { operation: 'WorkspaceBackend_ListByWorkspace', method: 'GET', path: re(`${SVC}/workspaces/${NAME}/backends`), apiVersion: APIM, query: LIST, ifMatch: 'none' },
  { operation: 'Certificate_ListByService', method: 'GET', path: re(`${SVC}(?:/workspaces/${NAME})?/certificates`), apiVersion: APIM, query: [...LIST, 'isKeyVaultRefreshFailed'], ifMatch: 'none' },
  { operation: 'PolicyFragment_ListByService', method: 'GET', path: re(`${SVC}(?:/workspaces/${NAME})?/policyFragments`), apiVersion: APIM, query: [...LIST, '$orderby'], ifMatch: 'none' },
  { operation: 'Policy_ListBy*', method: 'GET', path: re(`${SVC}${POLICY_SCOPES}/policies`), apiVersion: APIM, ifMatch: 'none' },
  { operation: 'Policy_Get (all scopes)', method: 'GET', path: re(`${SVC}${POLICY_SCOPES}/policies/policy`), apiVersion: APIM, query: ['format'], queryValues: FORMAT, ifMatch: 'none' },
  { operation: 'Policy_CreateOrUpdate (all scopes)', method: 'PUT', path: re(`${SVC}${POLICY_SCOPES}/policies/policy`), apiVersion: APIM, ifMatch: 'optional', body: policyBody },
  { operation: 'Policy_Delete (all scopes)', method: 'DELETE', path: re(`${SVC}${POLICY_SCOPES}/policies/policy`), apiVersion: APIM, ifMatch: 'required' },
  // The final GET of a fragment's long-running write carries the write's If-Match (SDK behaviour).
  { operation: 'PolicyFragment_Get', method: 'GET', path: re(`${SVC}(?:/workspaces/${NAME})?/policyFragments/${NAME}`), apiVersion: APIM, query: ['format'], queryValues: FORMAT, ifMatch: 'optional' },
  { operation: 'PolicyFragment_CreateOrUpdate', method: 'PUT', path: re(`${SVC}(?:/workspaces/${NAME})?/policyFragments/${NAME}`), apiVersion: APIM, ifMatch: 'optional', body: fragmentBody },
  { operation: 'PolicyFragment_Delete', method: 'DELETE', path: re(`${SVC}(?:/workspaces/${NAME})?/policyFragments/${NAME}`), apiVersion: APIM, ifMatch: 'required' },
  // The final GET of a named value's long-running write carries the write's If-Match (SDK behaviour), as for fragments.
  { operation: 'NamedValue_Get', method: 'GET', path: ENTITY('namedValues'), apiVersion: APIM, ifMatch: 'optional' },
  // `apimnamedvalues.json`: PUT long-running (final state via location), If-Match optional; DELETE If-Match required; listValue a POST without a body.
  { operation: 'NamedValue_CreateOrUpdate', method: 'PUT', path: ENTITY('namedValues'), apiVersion: APIM, ifMatch: 'optional', body: namedValueBody },
  { operation: 'NamedValue_Delete', method: 'DELETE', path: ENTITY('namedValues'), apiVersion: APIM, ifMatch: 'required' },
  { operation: 'NamedValue_ListValue', method: 'POST', path: re(`${SVC}/namedValues/${NAME}/listValue`), apiVersion: APIM, ifMatch: 'none' },
  // `apimworkspaces.json` 2024-05-01: WorkspaceNamedValue_* have the service-level contract, below `workspaces/{workspaceId}`.
  { operation: 'WorkspaceNamedValue_Get', method: 'GET', path: WS_ENTITY('namedValues'), apiVersion: APIM, ifMatch: 'optional' },
  { operation: 'WorkspaceNamedValue_CreateOrUpdate', method: 'PUT', path: WS_ENTITY('namedValues'), apiVersion: APIM, ifMatch: 'optional', body: namedValueBody },
  { operation: 'WorkspaceNamedValue_Delete', method: 'DELETE', path: WS_ENTITY('namedValues'), apiVersion: APIM, ifMatch: 'required' },
  { operation: 'WorkspaceNamedValue_ListValue', method: 'POST', path: re(`${SVC}/workspaces/${NAME}/namedValues/${NAME}/listValue`), apiVersion: APIM, ifMatch: 'none' },
  { operation: 'Backend_Get', method: 'GET', path: ENTITY('backends'), apiVersion: APIM, ifMatch: 'none' },
  // `apimbackends.json`: PUT synchronous (200/201), If-Match optional; DELETE If-Match required.
  { operation: 'Backend_CreateOrUpdate', method: 'PUT', path: ENTITY('backends'), apiVersion: APIM, ifMatch: 'optional', body: backendBody },
  { operation: 'Backend_Delete', method: 'DELETE', path: ENTITY('backends'), apiVersion: APIM, ifMatch: 'required' },
  // `apimworkspacebackends.json` 2024-05-01: the same contract below `workspaces/{workspaceId}`.
  { operation: 'WorkspaceBackend_Get', method: 'GET', path: WS_ENTITY('backends'), apiVersion: APIM, ifMatch: 'none' },
  { operation: 'WorkspaceBackend_CreateOrUpdate', method: 'PUT', path: WS_ENTITY('backends'), apiVersion: APIM, ifMatch: 'optional', body: backendBody },
  { operation: 'WorkspaceBackend_Delete', method: 'DELETE', path: WS_ENTITY('backends'), apiVersion: APIM, ifMatch: 'required' },
  {
    operation: 'RoleAssignments_ListForScope',
    method: 'GET',
    path: re(`${SCOPE}/providers/Microsoft\\.Authorization/roleAssignments`),
    apiVersion: AUTHZ,
    query: ['$filter', 'tenantId', '$skipToken'],
    queryValues: { $filter: /^(atScope\(\)|principalId eq '[0-9a-f-]{36}'|assignedTo\('[0-9a-f-]{36}'\)|atScope\(\) and (principalId eq '[0-9a-f-]{36}'|assignedTo\('[0-9a-f-]{36}'\)))$/i },
    ifMatch: 'none',
  },
  { operation: 'RoleAssignments_Get', method: 'GET', path: re(`${SCOPE}/providers/Microsoft\\.Authorization/roleAssignments/[0-9a-f-]{36}`), apiVersion: AUTHZ, query: ['tenantId'], ifMatch: 'none' },
  {
    operation: 'RoleAssignments_Create',
    method: 'PUT',
    path: re(`${SCOPE}/providers/Microsoft\\.Authorization/roleAssignments/[0-9a-f-]{36}`),
    apiVersion: AUTHZ,
    ifMatch: 'none',
    body: {
      required: ['properties', 'properties.roleDefinitionId', 'properties.principalId'],
      allowed: [
        'properties',
        'properties.roleDefinitionId',
        'properties.principalId',
        'properties.principalType',
        'properties.description',
        'properties.condition',
        'properties.conditionVersion',
        'properties.delegatedManagedIdentityResourceId',
      ],
    },
  },
  {
    operation: 'RoleAssignments_Delete',
    method: 'DELETE',
    path: re(`${SCOPE}/providers/Microsoft\\.Authorization/roleAssignments/[0-9a-f-]{36}`),
    apiVersion: AUTHZ,
    query: ['tenantId'],
    ifMatch: 'none',
  },
  {
    operation: 'RoleDefinitions_List',
    method: 'GET',
    path: re(`${SCOPE}/providers/Microsoft\\.Authorization/roleDefinitions`),
    apiVersion: AUTHZ,
    query: ['$filter'],
    queryValues: { $filter: /^roleName eq '.+'$/ },
    ifMatch: 'none',
  },
  { operation: 'RoleDefinitions_Get', method: 'GET', path: re(`${SCOPE}/providers/Microsoft\\.Authorization/roleDefinitions/[0-9a-f-]{36}`), apiVersion: AUTHZ, ifMatch: 'none' },
  {
    operation: 'UserAssignedIdentities_Get',
    method: 'GET',
    path: re(`/resourceGroups/${NAME}/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/${NAME}`),
    apiVersion: '2024-11-30',
    ifMatch: 'none',
  },
];

export interface LoggedCall {
  method: string;
  path: string;
  status: number;
  query: Record<string, string>;
  ifMatch?: string;
  bodyKeys?: string[];
}

/** Why `call` breaks the row it matches by method and path, or that no row matches it; [] when it keeps the contract. */
export function contractViolations(call: LoggedCall): { operation?: string; problems: string[] } {
  const below = call.path.replace(/^\/subscriptions\/[^/]+/i, '');
  const row = ARM_CONTRACT.find((r) => r.method === call.method && r.path.test(below));
  if (!row) return { problems: [`no operation in the spec for ${call.method} ${call.path}`] };
  const problems: string[] = [];
  const { 'api-version': apiVersion, ...rest } = call.query;
  if (apiVersion !== row.apiVersion) problems.push(`api-version ${apiVersion ?? '(none)'}, the spec's is ${row.apiVersion}`);
  for (const [k, v] of Object.entries(rest)) {
    if (!(row.query ?? []).includes(k)) problems.push(`query parameter ${k} is not in the spec`);
    else if (row.queryValues?.[k] && !row.queryValues[k].test(v)) problems.push(`${k}=${v} is not a value the spec allows`);
  }
  if (row.ifMatch === 'required' && !call.ifMatch) problems.push('If-Match is required');
  if (row.ifMatch === 'none' && call.ifMatch !== undefined) problems.push('If-Match is not a parameter of this operation');
  if (call.ifMatch !== undefined && !/^(\*|"[^"]+"|W\/"[^"]+")$/.test(call.ifMatch)) problems.push(`If-Match ${call.ifMatch} is neither * nor a quoted ETag`);
  if (row.body) {
    const keys = call.bodyKeys ?? [];
    for (const k of row.body.required) if (!keys.includes(k)) problems.push(`body lacks ${k}`);
    for (const k of keys) if (!row.body.allowed.includes(k)) problems.push(`body key ${k} is not in the spec's contract`);
  } else if (call.bodyKeys?.length) problems.push(`a body (${call.bodyKeys.join(', ')}) where the operation takes none`);
  return { operation: row.operation, problems };
}
