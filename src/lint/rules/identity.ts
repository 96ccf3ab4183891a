/**
 * Managed identities in policies: `authentication-managed-identity` as APIM accepts it, the
 * audience it asks for against the service it calls, and — when the tree has an identity.yaml —
 * whether the identity it uses is enabled and holds a data-plane role that lets it make that call.
 * What a policy calls is known offline only from literal URLs (token-targets.ts); anything built
 * from expressions, whole named values or hosts we do not know is skipped, never guessed: these
 * rules must not cry wolf on working policies. The services and roles are model/services.ts and
 * model/roles.ts.
 */
import { dataRoleProblem, roleHolder, type RoleHolder } from '../../model/data-role.js';
import type { IdentityManifest } from '../../model/identity.js';
import { KNOWN_BUILT_IN_ROLES, builtInRoleName, suggestRole } from '../../model/roles.js';
import { scopeResource } from '../../model/scope.js';
import { DATA_PLANES, ROLE_FAMILIES, SERVICES, audienceService, serviceHostOf, normaliseAudience } from '../../model/services.js';
import { literalAttribute, type XmlElement } from '../../policy-xml/index.js';
import type { FileFinding, Finding, Rule } from '../rule.js';
import { at, attrIsExpression } from '../rule.js';
import { backendUrls, DocumentIndex } from './token-targets.js';

const sameText = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

const managedIdentityResource: Rule = {
  id: 'managed-identity-resource',
  severity: 'error',
  description: 'authentication-managed-identity names the audience of the service it calls in resource.',
  check({ doc }) {
    return new DocumentIndex(doc)
      .managedIdentityPolicies()
      .filter(({ element }) => {
        const a = element.attributes.find((x) => x.name === 'resource');
        return !a || (literalAttribute(element, 'resource') ?? 'expression').trim() === '';
      })
      .map(({ element }) => ({
        at: at(element),
        message:
          'authentication-managed-identity needs resource="<audience>", the audience of the service it calls ' +
          '(e.g. https://servicebus.azure.net/, https://vault.azure.net, https://storage.azure.com/, https://cognitiveservices.azure.com)',
      }));
  },
};

const clientIdExpression: Rule = {
  id: 'managed-identity-client-id-expression',
  severity: 'error',
  description: 'client-id of authentication-managed-identity is not a policy expression (APIM refuses one).',
  check({ doc }) {
    return new DocumentIndex(doc)
      .managedIdentityPolicies()
      .filter(({ element }) => attrIsExpression(element, 'client-id'))
      .map(({ element }) => ({
        at: at(element),
        message: 'client-id does not allow policy expressions (APIM rejects the policy): ' + 'write the client ID of the user-assigned identity, or a named value {{name}} that holds it',
      }));
  },
};

const audienceMismatch: Rule = {
  id: 'managed-identity-audience',
  severity: 'warning',
  description: 'The resource (audience) of authentication-managed-identity belongs to the service of the backend it authenticates to.',
  check({ doc, tree, resource }) {
    const index = new DocumentIndex(doc, backendUrls(tree.entities, resource.scope.workspace));
    const out: Finding[] = [];
    for (const policy of index.managedIdentityPolicies()) {
      const audience = literalAttribute(policy.element, 'resource');
      const asked = audience === undefined ? undefined : audienceService(audience);
      if (!asked) continue;
      const targets = index.targets(policy);
      const hosts = targets.map((t) => (t.url === undefined ? undefined : serviceHostOf(t.url)));
      // Only when every destination is a known service and none of them takes this audience.
      if (!hosts.length || hosts.some((h) => !h) || hosts.some((h) => h!.endpoint.service === asked)) continue;
      const host = hosts[0]!;
      const service = SERVICES[host.endpoint.service];
      out.push({
        at: at(policy.element),
        message: `resource "${audience}" is the audience of ${SERVICES[asked].label}, but the token goes to ${host.host} (${service.label}): ` + `use ${service.suggest}`,
      });
    }
    return out;
  },
};

const regionalEndpoint: Rule = {
  id: 'cognitive-regional-endpoint',
  severity: 'warning',
  description: 'A managed-identity token is not sent to the regional Cognitive Services endpoint, which only takes keys.',
  check({ doc }) {
    const index = new DocumentIndex(doc);
    const seen = new Set<XmlElement>();
    const out: Finding[] = [];
    for (const policy of index.managedIdentityPolicies()) {
      for (const target of index.targets(policy)) {
        const host = target.url === undefined ? undefined : serviceHostOf(target.url);
        if (!host?.endpoint.regional || !target.element || seen.has(target.element)) continue;
        seen.add(target.element);
        out.push({
          at: at(target.element),
          message:
            `https://${host.host} is a regional endpoint, which answers Entra (managed identity) tokens with 400 "Resource Id is badly formed": ` +
            "use the resource's custom subdomain, https://<name>.openai.azure.com or https://<name>.cognitiveservices.azure.com",
        });
      }
    }
    return out;
  },
};

/** The identity an authentication-managed-identity uses: the system one without client-id. */
function usesUserAssigned(element: XmlElement): boolean {
  if (attrIsExpression(element, 'client-id')) return true;
  const clientId = literalAttribute(element, 'client-id');
  return clientId !== undefined && clientId.trim() !== '';
}

// A warning, not an error: an extracted tree says what is live, and a live instance can hold a
// policy that uses a disabled identity (it fails at run time). Taking away an identity the tree
// had is already a destructive change the plan refuses without the workflow's consent.
const identityNotEnabled: Rule = {
  id: 'identity-not-enabled',
  severity: 'warning',
  description: 'The managed identity a policy uses is enabled in identity.yaml.',
  check({ doc, manifest }) {
    if (!manifest) return [];
    const out: Finding[] = [];
    for (const { element } of new DocumentIndex(doc).managedIdentityPolicies()) {
      if (!usesUserAssigned(element) && manifest.systemAssigned === false) {
        out.push({
          at: at(element),
          message:
            'authentication-managed-identity without client-id uses the system-assigned identity, but identity.yaml sets systemAssigned: false, so the policy gets no token: ' +
            'set identity.systemAssigned: true, or add client-id with the client ID of a user-assigned identity',
        });
      } else if (usesUserAssigned(element) && manifest.userAssignedDeclared && manifest.userAssigned.length === 0) {
        out.push({
          at: at(element),
          message:
            'client-id selects a user-assigned identity, but identity.yaml attaches none (identity.userAssigned is empty), so the policy gets no token: ' +
            'add the identity under identity.userAssigned, or remove client-id to use the system-assigned identity',
        });
      }
    }
    return out;
  },
};

/** The assignments of the identity an authentication-managed-identity policy uses; undefined when the manifest does not manage that identity. */
function assignmentsFor(element: XmlElement, manifest: IdentityManifest): RoleHolder | undefined {
  // Offline a client ID is not matched to an alias: any user-assigned identity will do.
  return roleHolder(manifest, usesUserAssigned(element) ? {} : undefined);
}

const missingDataRole: Rule = {
  id: 'missing-data-role',
  severity: 'warning',
  description: 'The identity a policy calls a service with has a data-plane role there in identity.yaml that allows the call.',
  check({ doc, manifest, tree, resource }) {
    if (!manifest) return [];
    const index = new DocumentIndex(doc, backendUrls(tree.entities, resource.scope.workspace));
    const out: Finding[] = [];
    for (const policy of index.managedIdentityPolicies()) {
      const mine = assignmentsFor(policy.element, manifest);
      if (!mine) continue;
      const audience = literalAttribute(policy.element, 'resource');
      const asked = audience === undefined ? undefined : audienceService(audience);
      if (audience !== undefined && !asked) continue; // an app-ID URI or an audience we do not know: not a call we can judge
      const reported = new Set<string>();
      for (const target of index.targets(policy)) {
        const host = target.url === undefined ? undefined : serviceHostOf(target.url);
        const planeId = host?.endpoint.plane;
        // A token for another service does not reach this one's data plane: managed-identity-audience says so.
        if (!host || !planeId || (asked && asked !== host.endpoint.service)) continue;
        // The Event Hubs audience tells an Event Hubs namespace from a Service Bus one behind the same host suffix.
        const eventHubs = planeId === 'serviceBus' && audience !== undefined && normaliseAudience(audience) === 'https://eventhubs.azure.net';
        const plane = DATA_PLANES[eventHubs ? 'eventHubs' : planeId];
        const access = plane.access({ path: target.path, ...(target.method ? { method: target.method } : {}) });
        const problem = dataRoleProblem(mine, { plane, host: host.host, ...(host.name !== undefined ? { name: host.name } : {}) }, access, manifest);
        if (!problem || reported.has(problem.key)) continue;
        reported.add(problem.key);
        out.push({ at: at(policy.element), message: problem.message });
      }
    }
    return out;
  },
};

const roleScopeType: Rule = {
  id: 'role-scope-type',
  severity: 'warning',
  description: 'A data role in identity.yaml is assigned on a resource of the type it is for (a Service Bus role on a namespace, not on a Key Vault).',
  checkTree({ manifest }) {
    if (!manifest) return [];
    const out: FileFinding[] = [];
    for (const spec of manifest.roleAssignments) {
      const name = builtInRoleName(spec);
      const family = name === undefined ? undefined : ROLE_FAMILIES.find((f) => f.roles.includes(name));
      const resource = scopeResource(spec.scope);
      if (!family || !resource) continue;
      const child = resource.rest[0];
      const typeFits = sameText(resource.type, family.type);
      const childFits = !family.child || child === undefined || sameText(child, family.child);
      if (typeFits && childFits) continue;
      const scopeType = child !== undefined ? `${resource.type}/${child}` : resource.type;
      const other = ROLE_FAMILIES.find((f) => sameText(f.type, resource.type) && (!f.child || child === undefined || sameText(child, f.child)));
      out.push({
        file: manifest.file,
        at: { line: spec.at.line, column: spec.at.column },
        message:
          `${name} is for ${family.what}, but the scope is a ${scopeType} resource, where it grants nothing: ` +
          `scope it to a ${family.type} resource (or its resource group)${other ? `, or choose a role for ${scopeType} such as ${other.suggest}` : ''}`,
      });
    }
    return out;
  },
};

const unknownRole: Rule = {
  id: 'unknown-role',
  severity: 'warning',
  description: 'A role named in identity.yaml is a built-in role this tool knows offline (a custom role is looked up live by the plan).',
  checkTree({ manifest }) {
    if (!manifest) return [];
    const out: FileFinding[] = [];
    for (const spec of manifest.roleAssignments) {
      if (spec.roleDefinitionGuid) continue; // a GUID, a role definition ID or a known name
      const suggestion = suggestRole(spec.role);
      const where = spec.roleAt ?? spec.at;
      out.push({
        file: manifest.file,
        at: { line: where.line, column: where.column },
        message:
          `role "${spec.role}" is not one of the ${Object.keys(KNOWN_BUILT_IN_ROLES).length} built-in roles known offline` +
          (suggestion ? `; did you mean "${suggestion}"?` : '.') +
          ` A custom role (or another built-in one) is fine: the plan looks "${spec.role}" up at ${spec.scope} and stops if Azure has no role of that name; write its role definition GUID to skip the lookup`,
      });
    }
    return out;
  },
};

export const IDENTITY_RULES: Rule[] = [managedIdentityResource, clientIdExpression, audienceMismatch, regionalEndpoint, identityNotEnabled, missingDataRole, roleScopeType, unknownRole];
