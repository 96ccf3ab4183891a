/**
 * Plan-time reference checks: what a desired policy names must exist when it is applied, or APIM
 * refuses the write. `include-fragment` needs the fragment in the tree or live, `{{name}}` a live
 * named value, `set-backend-service backend-id` a live backend.
 */
import { addressKey, fragmentAddress, policyFilePath } from '../model/address.js';
import { workspaceQualified } from '../model/kinds.js';
import type { Diagnostic, PolicyResource } from '../model/index.js';
import { literalAttribute, type PolicyDocument, type Segment, type XmlElement } from '../policy-xml/index.js';

export interface ReferenceTargets {
  /** Address keys of fragments in the desired tree and live. */
  fragments: Set<string>;
  /** Lower-cased `[workspaces/<w>/]<name>` of live named values. */
  namedValues: Set<string>;
  /** Lower-cased `[workspaces/<w>/]<name>` of live backends. */
  backends: Set<string>;
  /**
   * The user-assigned identities the instance will have after apply, when known: `client-id` of
   * `authentication-managed-identity` must be one of their client IDs (a literal, or a named value
   * whose value is read live).
   */
  identities?: {
    /** Lower-cased client ID → alias or resource ID. */
    clients: Map<string, string>;
    /** Lower-cased principal (object) ID → client ID, to explain the common mix-up. */
    principals: Map<string, { clientId: string; label: string }>;
    /** Lower-cased `[workspaces/<w>/]<name>` → value, of named values that are not secret. */
    namedValueValues: Map<string, string>;
  };
}

const NAMED_VALUE = /\{\{([^{}]+?)\}\}/g;
// What APIM allows as a named value's name; anything else between braces is some other tool's template.
const NAMED_VALUE_NAME = /^[A-Za-z0-9._-]+$/;

function segmentText(segments: Segment[]): string {
  return segments.map((s) => (s.expression ? s.source : s.text)).join('');
}

/** Every element, depth first, with the text it holds directly (attributes, text, CDATA). */
export function* walkTexts(element: XmlElement): Generator<{ element: XmlElement; texts: string[] }> {
  const texts = element.attributes.map((a) => segmentText(a.segments));
  for (const child of element.children) {
    if (child.type === 'text') texts.push(segmentText(child.segments));
    else if (child.type === 'cdata') texts.push(child.text);
  }
  yield { element, texts };
  for (const child of element.children) if (child.type === 'element') yield* walkTexts(child);
}

/**
 * The named values `{{name}}` a text names (attributes, text, CDATA, inside expressions too): the
 * one scan, shared by the reference checks and what a change reaches (impact.ts). Names as written.
 */
export function namedValuesInText(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(NAMED_VALUE)) {
    const name = m[1]!.trim();
    if (NAMED_VALUE_NAME.test(name)) out.push(name);
  }
  return out;
}

export function checkReferences(resources: Iterable<PolicyResource>, documents: { get(key: string): PolicyDocument | undefined }, targets: ReferenceTargets): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const resource of resources) {
    const doc = documents.get(addressKey(resource.address));
    if (!doc) continue;
    const workspace = resource.scope.workspace;
    const file = resource.file ?? resource.address;
    const reported = new Set<string>();
    const report = (element: XmlElement, rule: string, what: string, message: string) => {
      if (reported.has(`${rule}:${what}`)) return;
      reported.add(`${rule}:${what}`);
      out.push({ severity: 'error', rule, file, line: element.line, column: element.column, message, address: resource.address });
    };
    const known = (set: Set<string>, name: string) => set.has(workspaceQualified(name, workspace).toLowerCase()) || set.has(name.toLowerCase());
    for (const { element, texts } of walkTexts(doc.root)) {
      const attr = (name: string) => literalAttribute(element, name);
      if (element.name === 'include-fragment') {
        const id = attr('fragment-id');
        if (id && !targets.fragments.has(addressKey(fragmentAddress(id, workspace)))) {
          report(
            element,
            'missing-fragment',
            id,
            `include-fragment names fragment "${id}", which is neither in the tree (${policyFilePath({ kind: 'fragment', fragmentId: id, ...(workspace !== undefined ? { workspace } : {}) })}) nor live; add the fragment or correct fragment-id`,
          );
        }
      }
      if (element.name === 'authentication-managed-identity' && targets.identities) {
        const raw = attr('client-id');
        const ids = targets.identities;
        const nv = raw ? /^\{\{\s*([A-Za-z0-9._-]+)\s*\}\}$/.exec(raw.trim())?.[1] : undefined;
        const value = nv ? (ids.namedValueValues.get(workspaceQualified(nv, workspace).toLowerCase()) ?? ids.namedValueValues.get(nv.toLowerCase())) : raw?.trim();
        const shown = nv ? `client-id "{{${nv}}}" (= ${value})` : `client-id "${value}"`;
        if (value && !ids.clients.has(value.toLowerCase())) {
          const mixed = ids.principals.get(value.toLowerCase());
          const attached = [...ids.clients.entries()].map(([c, label]) => `${label} ${c}`).join(', ');
          report(
            element,
            'identity-client-id',
            value.toLowerCase(),
            mixed
              ? `${shown} is the principal (object) ID of ${mixed.label}; client-id needs its client ID ${mixed.clientId}`
              : `${shown} is not the client ID of a user-assigned identity the instance will have (${attached || 'none attached'}); attach the identity in identity.yaml or correct client-id`,
          );
        }
      }
      if (element.name === 'set-backend-service') {
        const id = attr('backend-id');
        if (id && !known(targets.backends, id)) {
          report(element, 'missing-backend', id, `backend-id "${id}" is not a backend of the live instance; create the backend first or correct backend-id`);
        }
      }
      for (const text of texts) {
        for (const name of namedValuesInText(text)) {
          if (known(targets.namedValues, name)) continue;
          report(
            element,
            'missing-named-value',
            name.toLowerCase(),
            `named value "{{${name}}}" does not exist on the live instance; create it (Named values in the portal, or your APIOps named values) before this policy is applied`,
          );
        }
      }
    }
  }
  return out;
}
