/**
 * The README's "Try it" paragraph is what `npm run demo` shows: the bundled CLI's `demo` runs and
 * its saved plan has the number and kinds of changes the README states — read from the README's
 * sentence, so the two cannot drift apart — its closing `Plan:` line, and a second plan with no
 * changes. (The README's time is not asserted: it depends on the machine.)
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCliAsync } from '../helpers/run.js';

const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
const num = (word: string): number => {
  const n = /^\d+$/.test(word) ? Number(word) : WORDS.indexOf(word.toLowerCase());
  if (n < 0) throw new Error(`README: "${word}" is not a number the test reads`);
  return n;
};

/** The README's claims about the demo, from the "Try it" section. */
function claims() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Try it\n'), readme.indexOf('\n## ', readme.indexOf('\n## Try it\n') + 1)).replace(/\s+/g, ' ');
  const m =
    /only the (\w+) real differences show: (\w+) policy changes \((\w+) older policies, (\w+) missing, (\w+) extra\), (\w+) named value and backend changes \((\w+) named values? created, (\w+) secret named values? updated and (\w+) backends? created: .*?\) and (\w+) identity changes .*?\(the system identity switched on and a user-assigned one attached, and (\w+) role assignments created\), `(Plan: [^`]+)`/.exec(
      section,
    );
  if (!m) throw new Error('README "Try it" no longer has the sentence this test reads; update the test with it');
  return {
    total: num(m[1]!),
    policies: { all: num(m[2]!), update: num(m[3]!), create: num(m[4]!), delete: num(m[5]!) },
    entities: { all: num(m[6]!), namedValuesCreated: num(m[7]!), secretsUpdated: num(m[8]!), backendsCreated: num(m[9]!) },
    identity: { all: num(m[10]!), roleAssignments: num(m[11]!) },
    planLine: m[12]!,
  };
}

test('npm run demo shows what the README says it shows', async () => {
  const said = claims();
  const r = await runCliAsync(['demo', '--out-dir', mkdtempSync(join(tmpdir(), 'readme-demo-'))]);
  expect(r.code).toBe(0);
  const out = r.stdout;
  const planStart = out.indexOf('\n2. Plan');
  const planEnd = out.indexOf('\nPlan: ', planStart);
  expect(planStart).toBeGreaterThan(0);
  expect(planEnd).toBeGreaterThan(planStart);
  const changes = [...out.slice(planStart, planEnd).matchAll(/^([~+-]) (\S+)/gm)].map((c) => ({ op: c[1]!, address: c[2]! }));
  const isIdentity = (a: string) => a === 'identity' || a.startsWith('roleAssignments/');
  const isEntity = (a: string) => a.startsWith('namedValues/') || a.startsWith('backends/');
  const policies = changes.filter((c) => !isIdentity(c.address) && !isEntity(c.address));
  const entities = changes.filter((c) => isEntity(c.address));
  const identity = changes.filter((c) => isIdentity(c.address));
  const count = (list: typeof changes, op: string) => list.filter((c) => c.op === op).length;

  expect(changes).toHaveLength(said.total);
  expect({ all: policies.length, update: count(policies, '~'), create: count(policies, '+'), delete: count(policies, '-') }).toEqual(said.policies);
  const nv = entities.filter((c) => c.address.startsWith('namedValues/'));
  expect({
    all: entities.length,
    namedValuesCreated: count(nv, '+'),
    secretsUpdated: count(nv, '~'),
    backendsCreated: count(
      entities.filter((c) => c.address.startsWith('backends/')),
      '+',
    ),
  }).toEqual(said.entities);
  // The secret's update is said as such, and the value the demo used is in no line of its output.
  expect(out).toContain('secret value changed: value');
  expect(out).not.toContain(process.env.ORDERS_API_KEY!);
  expect({ all: identity.length, roleAssignments: identity.filter((c) => c.address.startsWith('roleAssignments/') && c.op === '+').length }).toEqual(said.identity);
  // the rest of the identity changes: the one update that switches the system identity on and attaches a user-assigned one
  expect(identity.filter((c) => c.address === 'identity' && c.op === '~')).toHaveLength(said.identity.all - said.identity.roleAssignments);
  expect(out).toMatch(/^ {4}\+systemAssigned: true$/m);
  expect(out).toMatch(/^ {4}\+ {2}- \/subscriptions\/.*\/userAssignedIdentities\//m);
  expect(out.slice(planEnd + 1).split('\n')[0]).toBe(said.planLine);
  // apply: identity, then role assignments, then named values, then backends, then policies; then a second plan with no changes
  const applied = [...out.matchAll(/^ {2}(create|update|delete) (\S+) .*… done$/gm)].map((a) => a[2]!);
  expect(applied).toHaveLength(said.total);
  const stage = (a: string) => (a === 'identity' ? 0 : a.startsWith('roleAssignments/') ? 1 : a.startsWith('namedValues/') ? 2 : a.startsWith('backends/') ? 3 : 4);
  const stages = applied.map(stage);
  expect(stages).toEqual([...stages].sort((a, b) => a - b));
  expect(new Set(stages)).toEqual(new Set([0, 1, 2, 3, 4]));
  expect(out.slice(out.indexOf('Plan again'))).toMatch(/\nNo changes\./);
});
