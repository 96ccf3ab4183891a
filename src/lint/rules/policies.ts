/**
 * What is in the sections: which policies exist and where the docs place them, inheritance through
 * `<base />`, token validation that lets any token of the tenant through, secrets written in plain
 * text, CORS that cannot work, fragments the tree does not have.
 */
import { addressKey, policyAddress } from '../../model/address.js';
import { closestName } from '../../model/closest-name.js';
import type { PolicyScopeKind } from '../../model/index.js';
import { includedFragments, literalAttribute, type PolicyDocument, type XmlElement } from '../../policy-xml/index.js';
import type { Finding, Rule, Section, Visit } from '../rule.js';
import { at, childElements, literalText, visit } from '../rule.js';
import { SECTIONS } from './structure.js';

const INBOUND: readonly Section[] = ['inbound'];
const ANY: readonly Section[] = SECTIONS;

/**
 * Where Microsoft's policy reference places each policy (its "Policy sections" line). A policy
 * that is not here is not checked for its section.
 */
const PLACEMENT: Readonly<Record<string, readonly Section[]>> = {
  // inbound only
  'authentication-basic': INBOUND,
  'authentication-certificate': INBOUND,
  'authentication-managed-identity': INBOUND,
  'check-header': INBOUND,
  cors: INBOUND,
  'cross-domain': INBOUND,
  'ip-filter': INBOUND,
  quota: INBOUND,
  'quota-by-key': INBOUND,
  'rate-limit': INBOUND,
  'rate-limit-by-key': INBOUND,
  'azure-openai-token-limit': INBOUND,
  'llm-token-limit': INBOUND,
  'llm-content-safety': INBOUND,
  'azure-openai-emit-token-metric': INBOUND,
  'llm-emit-token-metric': INBOUND,
  'azure-openai-semantic-cache-lookup': INBOUND,
  'llm-semantic-cache-lookup': INBOUND,
  'cache-lookup': INBOUND,
  'rewrite-uri': INBOUND,
  'validate-jwt': INBOUND,
  'validate-azure-ad-token': INBOUND,
  'validate-client-certificate': INBOUND,
  'validate-parameters': INBOUND,
  'validate-odata-request': INBOUND,
  proxy: INBOUND,
  'publish-to-dapr': INBOUND,
  // backend only
  'forward-request': ['backend'],
  // outbound only
  'cache-store': ['outbound'],
  'azure-openai-semantic-cache-store': ['outbound'],
  'llm-semantic-cache-store': ['outbound'],
  jsonp: ['outbound'],
  // outbound and on-error
  'validate-headers': ['outbound', 'on-error'],
  'validate-status-code': ['outbound', 'on-error'],
  // inbound and backend
  'set-backend-service': ['inbound', 'backend'],
  'set-query-parameter': ['inbound', 'backend'],
  // any section
  base: ANY,
  choose: ANY,
  'include-fragment': ANY,
  'set-variable': ANY,
  'set-header': ANY,
  'set-status': ANY,
  'set-body': ANY,
  'return-response': ANY,
  'send-request': ANY,
  'send-one-way-request': ANY,
  'cache-lookup-value': ANY,
  'cache-store-value': ANY,
  'cache-remove-value': ANY,
  retry: ANY,
  wait: ANY,
  'limit-concurrency': ANY,
  'log-to-eventhub': ANY,
  'emit-metric': ANY,
  'find-and-replace': ANY,
  'json-to-xml': ANY,
  'xml-to-json': ANY,
  // mixed
  'mock-response': ['inbound', 'outbound', 'on-error'],
  'set-method': ['inbound', 'on-error'],
  trace: ['inbound', 'backend', 'outbound'],
  'validate-content': ['inbound', 'outbound', 'on-error'],
  'xsl-transform': ['inbound', 'outbound', 'on-error'],
  'redirect-content-urls': ['inbound', 'outbound'],
};

/**
 * Policies the placement table leaves out: GraphQL resolver policies, self-hosted Dapr ones,
 * previews, and the two that Microsoft's policy toolkit emits ahead of the reference
 * (`cache-value`, `invoke-request`). Known, so never reported as unknown; their section is not checked.
 */
const UNPLACED_POLICIES = [
  'get-authorization-context',
  'validate-graphql-request',
  'set-graphql-resolver',
  'http-data-source',
  'sql-data-source',
  'cosmosdb-data-source',
  'publish-event',
  'invoke-dapr-binding',
  'send-service-bus-message',
  'cache-value',
  'invoke-request',
];

/** Every APIM policy: what a misspelt name is compared with. */
const POLICY_NAMES: readonly string[] = [...Object.keys(PLACEMENT), ...UNPLACED_POLICIES];

/** The documented child elements of policies (a few are also policies); none of them is reported as unknown. */
const CHILD_ELEMENTS = [
  // choose
  'when',
  'otherwise',
  // set-header, set-query-parameter, check-header, claim, cache-value
  'value',
  // send-request, send-one-way-request, return-response, http-data-source
  'set-url',
  // validate-jwt, validate-azure-ad-token
  'openid-config',
  'issuer-signing-keys',
  'decryption-keys',
  'key',
  'audiences',
  'audience',
  'issuers',
  'issuer',
  'required-claims',
  'claim',
  'client-application-ids',
  'backend-application-ids',
  'application-id',
  // cors
  'allowed-origins',
  'origin',
  'allowed-methods',
  'method',
  'allowed-headers',
  'header',
  'expose-headers',
  // validate-client-certificate
  'identities',
  'identity',
  // ip-filter
  'address',
  'address-range',
  // cache-lookup, semantic cache lookups
  'vary-by-header',
  'vary-by-query-parameter',
  'vary-by-custom',
  'vary-by',
  // rate-limit, quota
  'api',
  'operation',
  // emit-metric, *-emit-token-metric
  'dimension',
  // trace, invoke-dapr-binding
  'message',
  'metadata',
  'item',
  'data',
  // validate-content, validate-parameters, validate-headers, validate-status-code
  'content',
  'content-type-map',
  'type',
  'headers',
  'query',
  'path',
  'parameter',
  'status-code',
  // cross-domain (Flash's crossdomain.xml)
  'cross-domain-policy',
  'allow-access-from',
  'allow-http-request-headers-from',
  'site-control',
  // llm-content-safety
  'categories',
  'category',
  'blocklists',
  'id',
  // send-service-bus-message
  'message-properties',
  'message-property',
  'payload',
  // validate-graphql-request
  'authorize',
  'rule',
  // resolver policies (http-, sql-, cosmosdb-data-source, publish-event); invoke-request
  'http-request',
  'http-response',
  'backend',
  'targets',
  'graphql-subscription',
  'connection-info',
  'connection-string',
  'request',
  'response',
  'sql-statement',
  'parameters',
  'database-name',
  'container-name',
  'query-request',
  'read-request',
  'write-request',
  'delete-request',
  'paging',
  'max-item-count',
  'continuation-token',
  'partition-key',
  'etag',
  'body',
];

const KNOWN_ELEMENTS: ReadonlySet<string> = new Set([...POLICY_NAMES, ...CHILD_ELEMENTS]);

/**
 * Policies whose children are policies again, run in place. Elsewhere children are a policy's own
 * settings, too varied to judge (e.g. `<set-method>` inside `send-request` is not the policy).
 */
const CONTAINERS: ReadonlySet<string> = new Set(['choose', 'when', 'otherwise', 'retry', 'limit-concurrency', 'wait']);

/** True when the element stands where a policy stands: in a section or a fragment, or inside control flow there. */
function inPolicyPosition(doc: PolicyDocument, { ancestors }: Visit): boolean {
  const depth = doc.kind === 'policies' ? 2 : 1;
  if (ancestors.length < depth) return false;
  if (doc.kind === 'policies' && !(SECTIONS as readonly string[]).includes(ancestors[1]!.name)) return false;
  return ancestors.slice(depth).every((a) => CONTAINERS.has(a.name));
}

/** The policy a misspelt name most likely means: one slip (a swap of neighbours included) per five characters, at most three. */
const closestPolicy = (name: string): string | undefined => closestName(name, POLICY_NAMES, { charactersPerSlip: 5, swaps: true });

/** What is lost without `<base />`, per scope that inherits. */
const PARENT_SCOPES: Partial<Record<PolicyScopeKind, string>> = {
  product: 'the global (all APIs) policy does not run',
  api: 'the global (all APIs) and product policies do not run',
  operation: 'the API, product and global policies do not run',
};

const missingBase: Rule = {
  id: 'missing-base',
  severity: 'warning',
  description: 'A section at product, API or operation scope without <base /> drops the policies of the enclosing scopes.',
  check({ doc, resource }) {
    const parents = PARENT_SCOPES[resource.scope.kind];
    if (doc.kind !== 'policies' || !parents) return [];
    const holds = (e: XmlElement, name: string): boolean => childElements(e).some((c) => c.name === name || holds(c, name));
    return (
      childElements(doc.root)
        .filter((section) => (SECTIONS as readonly string[]).includes(section.name) && !holds(section, 'base'))
        // The enclosing backends are nearly always a bare <forward-request />: a backend that forwards
        // itself (with retry, timeouts, buffering) replaces it on purpose, as the docs' examples do.
        .filter((section) => !(section.name === 'backend' && holds(section, 'forward-request')))
        .map((section) => ({
          at: at(section),
          message:
            section.name === 'backend'
              ? `<backend> has no <base /> and no <forward-request />, so the request is not forwarded to the backend; add <base /> (or your own <forward-request />) unless the API always answers in <inbound>`
              : `<${section.name}> has no <base />, so ${parents} in it here; add <base /> where they should run (or suppress this rule where leaving them out is intended)`,
        }))
    );
  },
};

const unknownElement: Rule = {
  id: 'unknown-element',
  severity: 'info',
  description: 'An element where a policy stands that is not an APIM policy (often a misspelling).',
  check({ doc }) {
    const out: Finding[] = [];
    for (const v of visit(doc)) {
      const { name } = v.element;
      if (KNOWN_ELEMENTS.has(name) || !inPolicyPosition(doc, v)) continue;
      const suggestion = closestPolicy(name);
      out.push({
        at: at(v.element),
        message: suggestion
          ? `<${name}> is not an APIM policy; did you mean <${suggestion}>?`
          : `<${name}> is not a known APIM policy; check the name against the policy reference (APIM rejects unknown policies)`,
      });
    }
    return out;
  },
};

const sectionList = (sections: readonly Section[]): string => {
  const names = sections.map((s) => `<${s}>`);
  return names.length === 1 ? `${names[0]} only` : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
};

const wrongSection: Rule = {
  id: 'wrong-section',
  severity: 'warning',
  description: 'A policy in a section where the APIM docs do not place it.',
  check({ doc }) {
    const out: Finding[] = [];
    for (const v of visit(doc)) {
      const allowed = PLACEMENT[v.element.name];
      if (!v.section || !allowed || allowed.includes(v.section) || !inPolicyPosition(doc, v)) continue;
      out.push({
        at: at(v.element),
        message: `<${v.element.name}> is in <${v.section}>, but APIM places it in ${sectionList(allowed)}; move it there`,
      });
    }
    return out;
  },
};

/** True when `parent` has a `<list>` child holding at least one `<item>`. */
const hasListItem = (parent: XmlElement, list: string, item: string): boolean => childElements(parent, list).some((l) => childElements(l, item).length > 0);

const jwtNoAudience: Rule = {
  id: 'jwt-no-audience',
  severity: 'warning',
  description: 'Token validation that checks neither audience nor claims accepts any token the issuer signs, for any application.',
  check({ doc }) {
    const out: Finding[] = [];
    for (const { element } of visit(doc)) {
      const azureAd = element.name === 'validate-azure-ad-token';
      // validate-jwt with only inline signing keys trusts a key that belongs to this API alone; with
      // an openid-config it trusts an identity provider that signs tokens for every app it serves.
      if (!azureAd && !(element.name === 'validate-jwt' && childElements(element, 'openid-config').length > 0)) continue;
      const restricted =
        hasListItem(element, 'audiences', 'audience') || hasListItem(element, 'required-claims', 'claim') || (azureAd && hasListItem(element, 'client-application-ids', 'application-id'));
      if (restricted) continue;
      out.push({
        at: at(element),
        message:
          `<${element.name}> checks neither an audience nor a claim, so any valid token of the ${azureAd ? 'tenant' : 'issuer'} passes, whatever app it was issued for; ` +
          `add <audiences><audience>(your API's app ID URI)</audience></audiences> and/or <required-claims> (e.g. the roles claim)` +
          (azureAd ? ' or <client-application-ids>' : ''),
      });
    }
    return out;
  },
};

const openidConfigHttps: Rule = {
  id: 'openid-config-https',
  severity: 'error',
  description: 'An openid-config URL that is not https lets anyone on the path substitute the signing keys.',
  check({ doc }) {
    const out: Finding[] = [];
    for (const { element } of visit(doc)) {
      if (element.name !== 'openid-config') continue;
      const url = literalAttribute(element, 'url')?.trim();
      // Only a URL that names another scheme; a named value or another tool's placeholder is not known here.
      const scheme = url && /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1];
      if (!scheme || scheme.toLowerCase() === 'https') continue;
      out.push({
        at: at(element),
        message: `openid-config url "${url}" is not https: the signing keys fetched over it could be replaced in transit, and with them any token accepted; use https://`,
      });
    }
    return out;
  },
};

/** APIM's own rule for fragment ids; anything else (a `${…}` template, say) is not checked. */
const FRAGMENT_ID = /^(\w+|\w[\w-]+\w)$/;

const missingFragment: Rule = {
  id: 'missing-fragment',
  severity: 'warning',
  description: 'include-fragment names a fragment that is not in the tree.',
  check({ doc, resource, tree }) {
    const out: Finding[] = [];
    const workspace = resource.scope.workspace;
    for (const { fragmentId: id, element } of includedFragments(doc.root)) {
      if (!id || !FRAGMENT_ID.test(id)) continue;
      const address = policyAddress({ kind: 'fragment', fragmentId: id, ...(workspace ? { workspace } : {}) });
      if (tree.state.resources.has(addressKey(address))) continue;
      const file = `${workspace ? `workspaces/${workspace}/` : ''}policy fragments/${id}/policy.xml`;
      out.push({
        at: at(element),
        message: `fragment "${id}" is not in the tree (${file}); plan checks whether it exists live — add it to the tree to manage it here, or correct fragment-id`,
      });
    }
    return out;
  },
};

/** Headers and query parameters that carry a key; `code` is the Azure Functions key, a query parameter only. */
const SECRET_HEADERS: ReadonlySet<string> = new Set(['ocp-apim-subscription-key', 'subscription-key', 'api-key', 'x-api-key', 'x-functions-key']);
const SECRET_QUERY_PARAMETERS: ReadonlySet<string> = new Set([...SECRET_HEADERS, 'code']);

/** Named values and other tools' templates (`${x}`, `#{x}#`, `%{x}`, `__x__`, `{x}`): substituted before APIM sees it. */
const TEMPLATED = /\{\{|\$\{|#\{|%\{|^__\w+__$|^\{[\w.-]+\}$/;

/**
 * A literal that looks like a real key: long, one token of key characters, letters and digits
 * mixed. Placeholders such as "your-api-key-here" or "xxxxxxxx" are not keys.
 */
function looksLikeKey(value: string): boolean {
  return value.length >= 16 && /^[A-Za-z0-9+/=_.~-]+$/.test(value) && /\d/.test(value) && /[A-Za-z]/.test(value) && !/(.)\1{5}/.test(value);
}

const plaintextSecret: Rule = {
  id: 'plaintext-secret',
  severity: 'warning',
  description: 'A key or password written in plain text in the policy instead of a secret named value.',
  check({ doc }) {
    const out: Finding[] = [];
    const advice = 'move it to a secret named value (or a Key Vault one) and write {{name}} here';
    for (const { element } of visit(doc)) {
      const names = element.name === 'set-header' ? SECRET_HEADERS : element.name === 'set-query-parameter' ? SECRET_QUERY_PARAMETERS : undefined;
      const name = literalAttribute(element, 'name');
      if (names && name && names.has(name.toLowerCase())) {
        for (const value of childElements(element, 'value')) {
          const text = literalText(value);
          if (text === undefined || TEMPLATED.test(text) || !looksLikeKey(text)) continue;
          out.push({ at: at(value), message: `<${element.name} name="${name}"> sends a key written in plain text; ${advice}` });
        }
      }
      if (element.name === 'authentication-basic' || element.name === 'authentication-certificate') {
        const password = literalAttribute(element, 'password');
        if (!password || TEMPLATED.test(password)) continue;
        out.push({ at: at(element), message: `<${element.name}> has its password in plain text; ${advice}` });
      }
    }
    return out;
  },
};

const corsWildcardCredentials: Rule = {
  id: 'cors-wildcard-credentials',
  severity: 'warning',
  description: 'CORS that allows credentials from any origin: browsers refuse it, and it would let any site act as the user.',
  check({ doc }) {
    const out: Finding[] = [];
    for (const { element } of visit(doc)) {
      if (element.name !== 'cors' || literalAttribute(element, 'allow-credentials')?.trim().toLowerCase() !== 'true') continue;
      for (const list of childElements(element, 'allowed-origins')) {
        for (const origin of childElements(list, 'origin')) {
          if (literalText(origin) !== '*') continue;
          out.push({
            at: at(origin),
            message:
              '<origin>*</origin> with allow-credentials="true": browsers refuse credentials for a wildcard origin, and it would let any site call the API as the user; list the allowed origins',
          });
        }
      }
    }
    return out;
  },
};

export const POLICY_RULES: Rule[] = [missingBase, unknownElement, wrongSection, jwtNoAudience, openidConfigHttps, missingFragment, plaintextSecret, corsWildcardCredentials];
