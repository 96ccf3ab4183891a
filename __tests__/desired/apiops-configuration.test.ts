import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeDeep } from '../../src/desired/apiops-configuration.js';
import { loadDesiredTree } from '../../src/desired/load-desired.js';
import type { Diagnostic } from '../../src/model/index.js';
import { makeTree, policy } from '../helpers/tree.js';

const NV = (id: string) => `named values/${id}/namedValueInformation.json`;
const BE = (id: string) => `backends/${id}/backendInformation.json`;
const info = (properties: unknown) => JSON.stringify({ properties }, null, 2) + '\n';
const lineOf = (text: string, needle: string) => {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`fixture: no ${needle}`);
  return text.slice(0, at).split('\n').length;
};
const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');

const BACKEND = {
  url: 'https://dev.example.org/api',
  protocol: 'http',
  description: 'orders',
  tls: { validateCertificateChain: true, validateCertificateName: true },
  credentials: { header: { 'x-key': ['a', 'b'] } },
};
const tree = (extra: Record<string, string> = {}) =>
  makeTree({ 'policy.xml': policy(), [NV('base-url')]: info({ displayName: 'base-url', value: 'https://dev.example.org', tags: ['dev'] }), [BE('orders')]: info(BACKEND), ...extra });

describe('configuration.<environment>.yaml (APIOps)', () => {
  it('merges each entry deeply: objects key by key, arrays and scalars replaced', async () => {
    const yaml = [
      'namedValues:',
      '  - name: base-url',
      '    properties:',
      '      value: https://prod.example.org',
      '      tags: [prod]',
      'backends:',
      '  - name: orders',
      '    properties:',
      '      url: https://prod.example.org/api',
      '      tls:',
      '        validateCertificateName: false',
      '      credentials:',
      '        header:',
      '          x-key: [c]',
      '',
    ].join('\n');
    const root = tree({ 'configuration.prod.yaml': yaml });
    const t = await loadDesiredTree(root, { environment: 'prod', env: {} });
    expect(t.diagnostics).toEqual([]);
    expect(t.entities!.resources.get('namedvalues/base-url')!.properties).toEqual({ displayName: 'base-url', value: 'https://prod.example.org', tags: ['prod'] });
    expect(t.entities!.resources.get('backends/orders')!.properties).toEqual({
      url: 'https://prod.example.org/api',
      protocol: 'http',
      description: 'orders',
      tls: { validateCertificateChain: true, validateCertificateName: false },
      credentials: { header: { 'x-key': ['c'] } },
    });
    // Without the environment (or with another one) the file is not read.
    expect((await loadDesiredTree(root, { env: {} })).entities!.resources.get('namedvalues/base-url')!.properties['value']).toBe('https://dev.example.org');
    expect((await loadDesiredTree(root, { environment: 'test', env: {} })).entities!.resources.get('namedvalues/base-url')!.properties['value']).toBe('https://dev.example.org');
  });

  it('is found in the folder above the policies root (beside APIOps artifacts)', async () => {
    const outer = makeTree({ 'configuration.prod.yaml': 'namedValues:\n  - name: base-url\n    properties:\n      value: from-above\n' });
    const root = join(outer, 'apimartifacts');
    mkdirSync(join(root, 'named values', 'base-url'), { recursive: true });
    writeFileSync(join(root, NV('base-url')), info({ displayName: 'base-url', value: 'x' }));
    const t = await loadDesiredTree(root, { environment: 'prod', env: {} });
    expect(t.diagnostics).toEqual([]);
    expect(t.entities!.resources.get('namedvalues/base-url')!.properties['value']).toBe('from-above');
  });

  it('a missing configuration file with an environment set is no error', async () => {
    const t = await loadDesiredTree(tree(), { environment: 'prod', env: {} });
    expect(t.diagnostics).toEqual([]);
    expect(t.entities!.resources.size).toBe(2);
  });

  it('an entry for an id the tree lacks is an error at its line, with a did-you-mean', async () => {
    const yaml = 'namedValues:\n  - name: base-ur1\n    properties:\n      value: x\nbackends:\n  - name: nothing-like-it\n    properties:\n      url: https://x.example\n';
    const root = tree({ 'configuration.prod.yaml': yaml });
    const es = errors((await loadDesiredTree(root, { environment: 'prod', env: {} })).diagnostics);
    expect(es).toHaveLength(2);
    expect(es[0]).toMatchObject({ file: join(root, 'configuration.prod.yaml'), line: lineOf(yaml, 'base-ur1') });
    expect(es[0]!.message).toMatch(/no named values\/base-ur1\/namedValueInformation\.json — did you mean "base-url"\?/);
    expect(es[1]).toMatchObject({ line: lineOf(yaml, 'nothing-like-it') });
    expect(es[1]!.message).not.toMatch(/did you mean/);
  });

  it('reports YAML errors with file and line, and ignores other APIOps sections with one info', async () => {
    const bad = 'namedValues:\n  - name: base-url\n    properties: {value: x\n';
    const root = tree({ 'configuration.prod.yaml': bad });
    const es = errors((await loadDesiredTree(root, { environment: 'prod', env: {} })).diagnostics);
    expect(es.length).toBeGreaterThan(0);
    expect(es[0]).toMatchObject({ file: join(root, 'configuration.prod.yaml'), rule: 'apiops-configuration' });
    expect(es[0]!.message).toMatch(/not valid YAML/);

    const other = tree({ 'configuration.prod.yaml': 'apis:\n  - name: echo\ndiagnostics: []\nnamedValues: []\n' });
    const ds = (await loadDesiredTree(other, { environment: 'prod', env: {} })).diagnostics;
    expect(ds).toEqual([expect.objectContaining({ severity: 'info', file: join(other, 'configuration.prod.yaml') })]);
    expect(ds[0]!.message).toMatch(/"apis", "diagnostics"/);
  });

  it('a value the configuration sets is checked at the configuration line', async () => {
    const yaml = 'backends:\n  - name: orders\n    properties:\n      description: d\n      protocol: ftp\n';
    const root = tree({ 'configuration.prod.yaml': yaml });
    const es = errors((await loadDesiredTree(root, { environment: 'prod', env: {} })).diagnostics);
    expect(es).toEqual([expect.objectContaining({ file: join(root, 'configuration.prod.yaml'), line: lineOf(yaml, 'protocol') })]);
  });

  it('a token from the configuration resolves from the environment; a missing one is reported at the configuration line', async () => {
    const SECRET = 's3cr3t-from-env-value';
    const yaml = 'namedValues:\n  - name: base-url\n    properties:\n      secret: true\n      value: "{#PROD_BASE#}"\n';
    const root = tree({ 'configuration.prod.yaml': yaml });
    const ok = await loadDesiredTree(root, { environment: 'prod', env: { PROD_BASE: SECRET } });
    expect(ok.diagnostics).toEqual([]);
    expect(ok.secrets!.get('PROD_BASE')).toBe(SECRET);
    expect(ok.entities!.resources.get('namedvalues/base-url')!.properties['value']).toBe('{#PROD_BASE#}');

    const missing = await loadDesiredTree(root, { environment: 'prod', env: {} });
    expect(errors(missing.diagnostics)).toEqual([expect.objectContaining({ file: join(root, 'configuration.prod.yaml'), line: lineOf(yaml, '{#PROD_BASE#}'), rule: 'token' })]);
    expect(missing.diagnostics[0]!.message).toContain('PROD_BASE');
    expect(JSON.stringify([ok.diagnostics, missing.diagnostics])).not.toContain(SECRET);
  });

  it('a literal secret set by the configuration is a secret-in-repo warning at the configuration line', async () => {
    const yaml = 'namedValues:\n  - name: base-url\n    properties:\n      secret: true\n      value: hunter2-literal\n';
    const root = tree({ 'configuration.prod.yaml': yaml });
    const ds = (await loadDesiredTree(root, { environment: 'prod', env: {} })).diagnostics;
    expect(ds).toEqual([expect.objectContaining({ rule: 'secret-in-repo', file: join(root, 'configuration.prod.yaml'), line: lineOf(yaml, 'value:') })]);
    expect(JSON.stringify(ds)).not.toContain('hunter2-literal');
  });

  it('mergeDeep replaces arrays and scalars and merges objects', () => {
    expect(mergeDeep({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { c: [3] }, d: null })).toEqual({ a: { b: 1, c: [3] }, d: null });
  });
});
