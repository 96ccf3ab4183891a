/**
 * Where the token of an `authentication-managed-identity` policy goes: its send-request, the
 * requests that use its output variable, or the backend. Only literal URLs are known offline;
 * anything else is a target without a URL, never a guess.
 */
import type { EntityState } from '../../model/entities.js';
import { pathOf } from '../../model/services.js';
import { literalAttribute, type PolicyDocument, type Segment, type XmlElement } from '../../policy-xml/index.js';
import type { Visit } from '../rule.js';
import { attrIsExpression, childElements, literalText, visit } from '../rule.js';

export const MANAGED_IDENTITY_POLICY = 'authentication-managed-identity';

/** A URL a token is sent to, as far as it is known. */
export interface Target {
  /** The element that sets the URL (set-backend-service or send-request's set-url); undefined when there is none. */
  element?: XmlElement;
  /** The literal URL; undefined when it is an expression or cannot be known. */
  url?: string;
  method?: string;
  /** Path as far as known, with rewrite-uri for the backend. */
  path: string;
}

/** The sources of the expressions in an element's own attributes and text (not its children's). */
function ownExpressions(element: XmlElement): string[] {
  const segments: Segment[] = element.attributes.flatMap((a) => a.segments);
  for (const c of element.children) if (c.type === 'text') segments.push(...c.segments);
  return segments.flatMap((s) => (s.expression ? [s.source] : []));
}

/** Elements whose content is payload (SOAP, XSLT, Liquid), not policy: an element name there means nothing. */
const PAYLOAD = new Set(['set-body', 'xsl-transform', 'mock-response']);

/** The URL of a backend by its id (as `set-backend-service backend-id` names it); undefined when not known. */
export type BackendUrls = (backendId: string) => string | undefined;

/**
 * The `url`s of the tree's backends as a policy at `workspace` sees them: the workspace's backend of
 * that id when it has one, else the service's (the lookup the plan's reference checks make).
 */
export function backendUrls(entities: EntityState | undefined, workspace: string | undefined): BackendUrls | undefined {
  if (!entities) return undefined;
  const urls = new Map<string, string>();
  for (const e of entities.resources.values()) {
    const url = e.properties['url'];
    if (e.kind === 'backend' && typeof url === 'string') urls.set(`${(e.workspace ?? '').toLowerCase()}\n${e.id.toLowerCase()}`, url);
  }
  return (id) => (workspace !== undefined ? urls.get(`${workspace.toLowerCase()}\n${id.toLowerCase()}`) : undefined) ?? urls.get(`\n${id.toLowerCase()}`);
}

export class DocumentIndex {
  readonly visits: Visit[];

  constructor(
    doc: PolicyDocument,
    private readonly backends?: BackendUrls,
  ) {
    this.visits = [...visit(doc)].filter((v) => !v.ancestors.some((a) => PAYLOAD.has(a.name)));
  }

  managedIdentityPolicies(): Visit[] {
    return this.visits.filter((v) => v.element.name === MANAGED_IDENTITY_POLICY);
  }

  private nearest(v: Visit, name: string): XmlElement | undefined {
    return [...v.ancestors].reverse().find((a) => a.name === name);
  }

  /** The request a send-request makes. */
  private sendRequestTarget(sendRequest: XmlElement): Target {
    const setUrl = childElements(sendRequest, 'set-url')[0];
    const setMethod = childElements(sendRequest, 'set-method')[0];
    // send-request without set-method sends a GET.
    const method = setMethod ? literalText(setMethod)?.toUpperCase() : 'GET';
    const url = setUrl ? literalText(setUrl) : undefined;
    return { ...(setUrl ? { element: setUrl } : {}), ...(url ? { url } : {}), ...(method ? { method } : {}), path: url ? pathOf(url) : '' };
  }

  /**
   * The backend calls: set-backend-service in inbound or backend (or anywhere in a fragment). In a
   * choose branch that sets its own backend, that one.
   */
  private backendTargets(from: Visit): Target[] {
    const candidates = this.visits.filter((v) => v.element.name === 'set-backend-service' && v.section !== 'outbound' && v.section !== 'on-error' && !this.nearest(v, 'send-request'));
    const branches = [...from.ancestors].reverse().filter((a) => a.name === 'when' || a.name === 'otherwise');
    let chosen = candidates;
    for (const branch of branches) {
      const inside = candidates.filter((c) => c.ancestors.includes(branch));
      if (inside.length) {
        chosen = inside;
        break;
      }
    }
    const inbound = this.visits.filter((v) => v.section === 'inbound' || v.section === undefined);
    const setMethod = inbound.find((v) => v.element.name === 'set-method' && !this.nearest(v, 'send-request') && !this.nearest(v, 'return-response'));
    const method = setMethod ? literalText(setMethod.element)?.toUpperCase() : undefined;
    const rewrite = inbound.find((v) => v.element.name === 'rewrite-uri');
    const template = rewrite ? (literalAttribute(rewrite.element, 'template') ?? '') : '';
    return chosen.map(({ element }) => {
      // base-url wins over backend-id's url; a backend-id is looked up in the tree's backends.
      const id = literalAttribute(element, 'backend-id')?.trim();
      const url = literalAttribute(element, 'base-url') ?? (id ? this.backends?.(id) : undefined);
      const known = url !== undefined && url.trim() !== '';
      return { element, ...(known ? { url } : {}), ...(method ? { method } : {}), path: (known ? pathOf(url) : '') + template };
    });
  }

  /**
   * Where the token of an authentication-managed-identity goes: its send-request; with
   * output-token-variable-name, the requests whose Authorization header reads that variable;
   * otherwise the backend. [] when nothing can be said; a target without url when some
   * destination is unknown.
   */
  targets(policy: Visit): Target[] {
    const sendRequest = this.nearest(policy, 'send-request');
    if (sendRequest) return [this.sendRequestTarget(sendRequest)];
    const variable = literalAttribute(policy.element, 'output-token-variable-name')?.trim();
    if (variable === undefined) return attrIsExpression(policy.element, 'output-token-variable-name') ? [] : this.backendTargets(policy);
    const quoted = `"${variable}"`;
    const users = this.visits.filter((v) => v.element !== policy.element && ownExpressions(v.element).some((s) => s.includes(quoted)));
    const targets: Target[] = [];
    for (const user of users) {
      // The header element, for `<set-header><value>@(...)</value></set-header>`.
      const header = user.element.name === 'set-header' ? user.element : this.nearest(user, 'set-header');
      const request = this.nearest(user, 'send-request');
      if (header && request) targets.push(this.sendRequestTarget(request));
      else if (header && (user.section === 'inbound' || user.section === 'backend' || user.section === undefined) && !this.nearest(user, 'return-response')) {
        const backend = this.backendTargets(user);
        // No set-backend-service here: the API's own service URL, which only Azure knows.
        targets.push(...(backend.length ? backend : [{ path: '' }]));
      } else targets.push({ path: '' }); // used some other way: the destination is not known
    }
    return targets;
  }
}
