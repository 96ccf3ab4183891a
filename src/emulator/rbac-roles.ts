/**
 * Built-in Azure roles the emulator enforces, with the control-plane `actions` / `notActions` of
 * Microsoft's published definitions (learn.microsoft.com, "Azure built-in roles": General,
 * Integration, Identity, Privileged), and the wildcard matching ARM applies to them.
 *
 * Matching: case-insensitive; `*` matches any characters; a `/*` segment also matches no segment
 * at all, so Managed Identity Operator's `userAssignedIdentities/<star>/assign/action` grants
 * `Microsoft.ManagedIdentity/userAssignedIdentities/assign/action` (the action ARM checks when an
 * identity is attached, which Managed Identity Operator is documented to allow). A role grants an
 * action when one of its actions matches and none of its notActions does; roles add up.
 */

export interface RoleDefinitionPermissions {
  guid: string;
  actions: string[];
  notActions: string[];
}

const COMMON_APIM = [
  'Microsoft.Authorization/*/read',
  'Microsoft.Insights/alertRules/*',
  'Microsoft.ResourceHealth/availabilityStatuses/read',
  'Microsoft.Resources/deployments/*',
  'Microsoft.Resources/subscriptions/resourceGroups/read',
  'Microsoft.Support/*',
];

export const ROLE_PERMISSIONS: Record<string, RoleDefinitionPermissions> = {
  Owner: { guid: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635', actions: ['*'], notActions: [] },
  Contributor: {
    guid: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
      'Microsoft.Compute/galleries/share/action',
      'Microsoft.Purview/consents/write',
      'Microsoft.Purview/consents/delete',
      'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
      'Microsoft.Subscription/cancel/action',
      'Microsoft.Subscription/enable/action',
    ],
  },
  Reader: { guid: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', actions: ['*/read'], notActions: [] },
  'User Access Administrator': { guid: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9', actions: ['*/read', 'Microsoft.Authorization/*', 'Microsoft.Support/*'], notActions: [] },
  'Role Based Access Control Administrator': {
    guid: 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
    actions: ['Microsoft.Authorization/roleAssignments/write', 'Microsoft.Authorization/roleAssignments/delete', '*/read', 'Microsoft.Support/*'],
    notActions: [],
  },
  'API Management Service Contributor': { guid: '312a565d-c81f-4fd8-895a-4e21e48d571c', actions: ['Microsoft.ApiManagement/service/*', ...COMMON_APIM], notActions: [] },
  'API Management Service Operator Role': {
    guid: 'e022efe7-f5ba-4159-bbe4-b44f577e9b61',
    actions: [
      'Microsoft.ApiManagement/service/*/read',
      'Microsoft.ApiManagement/service/backup/action',
      'Microsoft.ApiManagement/service/delete',
      'Microsoft.ApiManagement/service/managedeployments/action',
      'Microsoft.ApiManagement/service/read',
      'Microsoft.ApiManagement/service/restore/action',
      'Microsoft.ApiManagement/service/updatecertificate/action',
      'Microsoft.ApiManagement/service/updatehostname/action',
      'Microsoft.ApiManagement/service/write',
      ...COMMON_APIM,
    ],
    notActions: ['Microsoft.ApiManagement/service/users/keys/read'],
  },
  'API Management Service Reader Role': {
    guid: '71522526-b88f-4d52-b57f-d31fc3546d0d',
    actions: ['Microsoft.ApiManagement/service/*/read', 'Microsoft.ApiManagement/service/read', ...COMMON_APIM],
    notActions: ['Microsoft.ApiManagement/service/users/keys/read'],
  },
  'Managed Identity Operator': {
    guid: 'f1a07417-d97a-45cb-824c-7a7467783830',
    actions: [
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
      'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
      'Microsoft.Authorization/*/read',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Support/*',
    ],
    notActions: [],
  },
};

const patternCache = new Map<string, RegExp>();

/** ARM's wildcard match of one permission pattern against an action (case-insensitive). */
export function actionMatches(pattern: string, action: string): boolean {
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('<STAR>')
      // `/*/` also matches a single `/` (no segment).
      .replaceAll('/<STAR>/', '/(?:.*/)?')
      .replaceAll('<STAR>', '.*');
    re = new RegExp(`^${body}$`, 'i');
    patternCache.set(pattern, re);
  }
  return re.test(action);
}

/** Whether the role (by name, as Azure spells it, case-insensitively) grants the action. */
export function roleGrants(roleName: string, action: string): boolean {
  const role = roleByName(roleName);
  if (!role) return false;
  return role.actions.some((p) => actionMatches(p, action)) && !role.notActions.some((p) => actionMatches(p, action));
}

export function roleByName(roleName: string): RoleDefinitionPermissions | undefined {
  const key = Object.keys(ROLE_PERMISSIONS).find((n) => n.toLowerCase() === roleName.trim().toLowerCase());
  return key ? ROLE_PERMISSIONS[key] : undefined;
}

/** The canonical spelling of an enforced role's name, or undefined. */
export function canonicalRoleName(roleName: string): string | undefined {
  return Object.keys(ROLE_PERMISSIONS).find((n) => n.toLowerCase() === roleName.trim().toLowerCase());
}
