import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { loadDesiredTree } from '../../src/desired/load-desired.js';
import type { Diagnostic } from '../../src/model/index.js';
import { ROOT } from '../helpers/run.js';
import { makeTree, policy } from '../helpers/tree.js';

const NV = (id: string, ws = '') => `${ws}named values/${id}/namedValueInformation.json`;
const BE = (id: string, ws = '') => `${ws}backends/${id}/backendInformation.json`;
const info = (properties: unknown) => JSON.stringify({ properties }, null, 2) + '\n';
/** The 1-based line of the first `needle` in `text`: what a message should point at. */
const lineOf = (text: string, needle: string) => {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`fixture: no ${needle}`);
  return text.slice(0, at).split('\n').length;
};
const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');
const load = (root: string, env: Record<string, string> = {}, environment?: string) => loadDesiredTree(root, { env, ...(environment ? { environment } : {}) });

describe('named values and backends of the tree', () => {
  it('loads both kinds at the root and in workspaces, with addresses, file and the line of "properties"', async () => {
    const nv = info({ displayName: 'base-url', value: 'https://example.org' });
    const be = info({ url: 'https://orders.example.org/api', protocol: 'http' });
    const root = makeTree({ 'policy.xml': policy(), [NV('base-url')]: nv, [BE('orders')]: be, [NV('ws-nv', 'workspaces/team-a/')]: nv, [BE('ws-be', 'workspaces/team-a/')]: be });
    const tree = await load(root);
    expect(errors(tree.diagnostics)).toEqual([]);
    const rs = [...tree.entities!.resources.values()];
    expect(rs.map((r) => r.address).sort()).toEqual(['backends/orders', 'namedValues/base-url', 'workspaces/team-a/backends/ws-be', 'workspaces/team-a/namedValues/ws-nv']);
    const wsBe = rs.find((r) => r.id === 'ws-be')!;
    expect(wsBe).toMatchObject({ type: 'entity', kind: 'backend', workspace: 'team-a', file: join(root, BE('ws-be', 'workspaces/team-a/')), line: lineOf(be, '"properties"') });
    expect(wsBe.properties).toEqual({ url: 'https://orders.example.org/api', protocol: 'http' });
    expect(tree.entities!.resources.has('namedvalues/base-url')).toBe(true);
    expect([...tree.entities!.managed].sort()).toEqual(['backend', 'namedValue']);
  });

  it('loads the named values and backends of the sample tree without a problem: a plain value, a secret from the environment, a Key Vault value, a backend', async () => {
    const tree = await load(join(ROOT, 'policies'), { ORDERS_API_KEY: 'k-1' });
    expect(errors(tree.diagnostics)).toEqual([]);
    const get = (a: string) => tree.entities!.resources.get(a.toLowerCase());
    expect(get('namedValues/tenant-id')).toMatchObject({ kind: 'namedValue', properties: { displayName: 'tenant-id', secret: false } });
    expect(get('namedValues/orders-api-key')).toMatchObject({ kind: 'namedValue', properties: { secret: true } });
    expect(get('namedValues/logic-callback-sig')).toMatchObject({
      kind: 'namedValue',
      properties: { secret: true, keyVault: { secretIdentifier: 'https://kv-apim-demo.vault.azure.net/secrets/logic-callback-sig' } },
    });
    expect(get('backends/orders-fulfilment')).toMatchObject({ kind: 'backend', properties: { protocol: 'http', url: 'https://func-orders-fulfilment.azurewebsites.net/api' } });
    expect([...tree.entities!.managed].sort()).toEqual(['backend', 'namedValue']);
  });

  it('the sample tree without ORDERS_API_KEY: one error naming the token and the file of orders-api-key; none for a check that needs no secret', async () => {
    const tree = await load(join(ROOT, 'policies'));
    const errs = errors(tree.diagnostics);
    expect(errs).toHaveLength(1);
    expect(errs[0]!.file).toBe(join(ROOT, 'policies', NV('orders-api-key')));
    expect(errs[0]!.message).toContain('ORDERS_API_KEY');
    const lint = await loadDesiredTree(join(ROOT, 'policies'), { env: {}, tokens: 'optional' });
    expect(lint.diagnostics).toEqual([]);
    expect(lint.secrets?.size ?? 0).toBe(0);
  });

  it('manages a kind only when its folder exists, at the root or in a workspace', async () => {
    expect([...(await load(makeTree({ 'policy.xml': policy() }))).entities!.managed]).toEqual([]);
    const onlyWs = makeTree({ 'policy.xml': policy(), [BE('b', 'workspaces/w/')]: info({ url: 'https://x.example', protocol: 'http' }) });
    expect([...(await load(onlyWs)).entities!.managed]).toEqual(['backend']);
    const empty = makeTree({ 'policy.xml': policy() });
    mkdirSync(join(empty, 'named values'));
    const tree = await load(empty);
    expect([...tree.entities!.managed]).toEqual(['namedValue']);
    expect(tree.entities!.resources.size).toBe(0);
  });

  it('a tree of named values only is not reported as a misplaced tree, nor its JSON files as misplaced', async () => {
    const tree = await load(makeTree({ [NV('a')]: info({ displayName: 'a', value: 'x' }) }));
    expect(tree.diagnostics).toEqual([]);
    expect(tree.entities!.resources.size).toBe(1);
  });

  it('reports invalid JSON at the line and column of the error', async () => {
    const text = '{\n  "properties": {\n    "displayName": "a",\n    "value": "x",\n  }\n}\n';
    const root = makeTree({ [NV('a')]: text });
    const [d] = errors((await load(root)).diagnostics);
    expect(d).toMatchObject({ file: join(root, NV('a')), line: 5, column: 3 });
    expect(d!.message).toMatch(/not valid JSON/);
  });

  it('requires a "properties" object', async () => {
    const text = '{\n  "displayName": "a"\n}\n';
    const root = makeTree({ [NV('a')]: text, [BE('b')]: '{\n  "properties": []\n}\n' });
    const es = errors((await load(root)).diagnostics);
    expect(es).toHaveLength(2);
    expect(es.find((e) => e.file.endsWith('namedValueInformation.json'))!.message).toMatch(/"properties" object/);
    expect(es.find((e) => e.file.endsWith('backendInformation.json'))).toMatchObject({ line: 2 });
  });

  it('refuses ids ARM refuses, naming the folder', async () => {
    const long = 'b'.repeat(81);
    const root = makeTree({
      [NV('a:b')]: info({ displayName: 'a', value: 'x' }),
      [BE(long)]: info({ url: 'https://x.example', protocol: 'http' }),
      [NV('n'.repeat(255))]: info({ displayName: 'ok', value: 'x' }),
    });
    const es = errors((await load(root)).diagnostics);
    expect(es.map((e) => e.message).sort()).toEqual([
      expect.stringMatching(/backend id "b+" must be 1 to 80 characters.*rename the folder/),
      expect.stringMatching(/named value id "a:b" may not contain/),
    ]);
  });

  it.each([
    ['displayName missing', { value: 'x' }, '"properties"', /needs "displayName"/],
    ['displayName too long', { displayName: 'd'.repeat(257), value: 'x' }, '"displayName"', /1 to 256/],
    ['displayName with a space', { displayName: 'my name', value: 'x' }, '"displayName"', /only letters, digits/],
    ['neither value nor keyVault', { displayName: 'a' }, '"properties"', /needs "value" or "keyVault"/],
    ['both value and keyVault', { displayName: 'a', value: 'x', keyVault: { secretIdentifier: 'https://v.vault.azure.net/secrets/s' } }, '"value"', /either "value" or "keyVault.secretIdentifier"/],
    ['value too long', { displayName: 'a', value: 'v'.repeat(4097) }, '"value"', /at most 4096/],
    ['value blank', { displayName: 'a', value: '  ' }, '"value"', /empty or only whitespace/],
    ['value not a string', { displayName: 'a', value: 3 }, '"value"', /must be a string/],
    ['secretIdentifier not https', { displayName: 'a', keyVault: { secretIdentifier: 'http://v.vault.azure.net/secrets/s' } }, '"secretIdentifier"', /https URL/],
    ['secret not boolean', { displayName: 'a', value: 'x', secret: 'true' }, '"secret"', /true or false/],
    ['tags not strings', { displayName: 'a', value: 'x', tags: [1] }, '"tags"', /list of strings/],
    ['too many tags', { displayName: 'a', value: 'x', tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, '"tags"', /at most 32/],
  ])('named value: %s is an error at its line', async (_name, properties, needle, message) => {
    const text = info(properties);
    const root = makeTree({ [NV('a')]: text });
    const es = errors((await load(root)).diagnostics);
    expect(es).toHaveLength(1);
    expect(es[0]).toMatchObject({ file: join(root, NV('a')), line: lineOf(text, needle), address: 'namedValues/a' });
    expect(es[0]!.message).toMatch(message);
  });

  it.each([
    ['url missing', { protocol: 'http' }, '"properties"', /needs "url"/],
    ['url relative', { url: '/api', protocol: 'http' }, '"url"', /not an absolute URL/],
    ['url too long', { url: `https://x.example/${'p'.repeat(2000)}`, protocol: 'http' }, '"url"', /1 to 2000/],
    ['protocol missing', { url: 'https://x.example' }, '"properties"', /needs "protocol"/],
    ['protocol wrong', { url: 'https://x.example', protocol: 'https' }, '"protocol"', /"http" or "soap"/],
  ])('backend: %s is an error at its line', async (_name, properties, needle, message) => {
    const text = info(properties);
    const root = makeTree({ [BE('b')]: text });
    const es = errors((await load(root)).diagnostics);
    expect(es).toHaveLength(1);
    expect(es[0]).toMatchObject({ file: join(root, BE('b')), line: lineOf(text, needle) });
    expect(es[0]!.message).toMatch(message);
  });

  it('a pool backend has no url', async () => {
    const root = makeTree({ [BE('pool')]: info({ type: 'Pool', protocol: 'http', pool: { services: [{ id: '/backends/a' }] } }) });
    expect(errors((await load(root)).diagnostics)).toEqual([]);
  });

  it('warns about an unknown property, naming the nearest known one', async () => {
    const text = info({ displayName: 'a', value: 'x', secrte: true });
    const root = makeTree({ [NV('a')]: text });
    const ds = (await load(root)).diagnostics;
    expect(ds).toEqual([expect.objectContaining({ severity: 'warning', line: lineOf(text, '"secrte"') })]);
    expect(ds[0]!.message).toMatch(/unknown property "secrte".*did you mean "secret"/);
  });

  it('refuses a symbolically linked entity folder and an information file linking out of the tree', async () => {
    const outside = makeTree({ 'namedValueInformation.json': info({ displayName: 'a', value: 'x' }) });
    const root = makeTree({ 'policy.xml': policy() });
    mkdirSync(join(root, 'named values', 'a'), { recursive: true });
    symlinkSync(join(outside, 'namedValueInformation.json'), join(root, NV('a')));
    symlinkSync(outside, join(root, 'named values', 'linked'));
    const linkedKindFolder = makeTree({ 'policy.xml': policy() });
    mkdirSync(join(outside, 'x'));
    symlinkSync(outside, join(linkedKindFolder, 'backends'));
    const other = await load(linkedKindFolder);
    expect(other.entities!.managed.size).toBe(0);
    expect(errors(other.diagnostics).map((e) => e.file)).toEqual([join(linkedKindFolder, 'backends')]);
    const tree = await load(root);
    const es = errors(tree.diagnostics);
    expect(es.map((e) => e.file).sort()).toEqual([join(root, NV('a')), join(root, 'named values', 'linked')]);
    expect(tree.entities!.resources.size).toBe(0);
  });

  it('two folders differing in case are one ARM name: an error', async () => {
    const root = makeTree({ [NV('Abc')]: info({ displayName: 'a', value: 'x' }), [NV('abc')]: info({ displayName: 'b', value: 'y' }) });
    const es = errors((await load(root)).diagnostics);
    expect(es).toHaveLength(1);
    expect(es[0]!.message).toMatch(/case-insensitive/);
  });
});

describe('{#TOKEN#} values from the environment', () => {
  const SECRET = 'pa55-w0rd-never-shown';

  it('resolves tokens into secrets, keeping the properties unresolved', async () => {
    const root = makeTree({ [NV('db')]: info({ displayName: 'db', value: '{#DB_PASSWORD#}', secret: true }), [BE('b')]: info({ url: 'https://{#HOST#}/api', protocol: 'http' }) });
    const tree = await load(root, { DB_PASSWORD: SECRET, HOST: 'h.example' });
    expect(tree.diagnostics).toEqual([]);
    expect(tree.secrets).toEqual(
      new Map([
        ['DB_PASSWORD', SECRET],
        ['HOST', 'h.example'],
      ]),
    );
    expect(tree.entities!.resources.get('namedvalues/db')!.properties['value']).toBe('{#DB_PASSWORD#}');
  });

  it('a missing variable is an error naming the token, file, line and what to do', async () => {
    const text = info({ displayName: 'db', value: '{#DB_PASSWORD#}', secret: true, tags: ['x'] });
    const root = makeTree({ [NV('db')]: text });
    const es = errors((await load(root, { OTHER: SECRET })).diagnostics);
    expect(es).toHaveLength(1);
    expect(es[0]).toMatchObject({ file: join(root, NV('db')), line: lineOf(text, '{#DB_PASSWORD#}'), rule: 'token' });
    expect(es[0]!.message).toContain('DB_PASSWORD');
    expect(es[0]!.message).toContain('env: { DB_PASSWORD: ${{ secrets.DB_PASSWORD }} }');
  });

  it('a secret written literally is a warning (secret-in-repo) that does not repeat the value', async () => {
    const text = info({ displayName: 'db', value: SECRET, secret: true });
    const root = makeTree({ [NV('db')]: text });
    const ds = (await load(root)).diagnostics;
    expect(ds).toEqual([expect.objectContaining({ severity: 'warning', rule: 'secret-in-repo', line: lineOf(text, '"value"') })]);
    expect(JSON.stringify(ds)).not.toContain(SECRET);
  });

  it('no diagnostic of a tree with problems holds a resolved value', async () => {
    const root = makeTree({
      [NV('db')]: info({ displayName: 'bad name', value: '{#DB_PASSWORD#}', secret: 'yes', extra: 1 }),
      [BE('b')]: info({ url: '{#HOST#}', protocol: 'ftp', credentials: { header: { k: ['{#DB_PASSWORD#}'] } } }),
    });
    const tree = await load(root, { DB_PASSWORD: SECRET });
    expect(errors(tree.diagnostics).length).toBeGreaterThan(2);
    expect(JSON.stringify(tree.diagnostics)).not.toContain(SECRET);
  });
});
