/**
 * Parents must exist (issue 15): the seed declares the APIs, operations, products and workspaces of
 * a tree's folders (and APIOps information files), the admin API creates a hand-edited policy's
 * parents and deletes an entity with everything under it, as ARM does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLiveSeed, startSeededEmulator } from '../../src/cli/emulator-seed.js';
import { seedState } from '../../src/emulator/seed.js';
import { createEmulatorState } from '../../src/emulator/state.js';
import { DEFAULT_TARGET, type RunningEmulator } from '../../src/emulator/server.js';
import { admin } from '../helpers/emulator.js';
import { makeTree, policy } from '../helpers/tree.js';

describe('the seed declares parents', () => {
  test('folders and APIOps information files: APIs (with display names), operations, products, workspaces', async () => {
    const tree = makeTree({
      'apis/orders/policy.xml': policy(),
      'apis/orders/operations/send/policy.xml': policy(),
      'apis/bare/apiInformation.json': JSON.stringify({ properties: { displayName: 'Bare API', path: 'bare' } }),
      'products/gold/productInformation.json': JSON.stringify({ properties: { displayName: 'Gold' } }),
      'workspaces/team/apis/inner/policy.xml': policy(),
    });
    const { seed } = await loadLiveSeed(tree);
    expect(seed.apis).toEqual([{ address: 'apis/bare', displayName: 'Bare API' }, { address: 'apis/orders' }, { address: 'workspaces/team/apis/inner' }]);
    expect(seed.operations).toEqual([{ address: 'apis/orders/operations/send' }]);
    expect(seed.products).toEqual([{ address: 'products/gold', displayName: 'Gold' }]);
    expect(seed.workspaces).toEqual([{ address: 'workspaces/team' }]);
  });

  test('a seed whose policy has no declared parent is refused, naming both', () => {
    const state = createEmulatorState(DEFAULT_TARGET);
    const seed = { policies: [{ address: 'apis/orders/policies/policy', xml: policy() }], apis: [], operations: [], products: [], workspaces: [], namedValues: [], backends: [] };
    expect(() => seedState(state, seed)).toThrow('cannot seed apis/orders/policies/policy: apis/orders does not exist');
    expect(() => seedState(createEmulatorState(DEFAULT_TARGET), { ...seed, policies: [], operations: [{ address: 'apis/x/operations/o' }] })).toThrow('its parent apis/x is not declared');
  });
});

describe('admin API', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    const tree = makeTree({ 'apis/orders/policy.xml': policy(), 'apis/orders/operations/send/policy.xml': policy() });
    writeFileSync(join(tree, 'policy.xml'), policy());
    emu = await startSeededEmulator({ seedDir: tree });
  });
  afterAll(async () => {
    await emu?.close();
  });

  test('a policy edited in by hand comes with its parents; deleting an API deletes its operations and policies (cascade, as ARM)', async () => {
    await admin(emu, 'POST', 'edit', { address: 'products/gold/policies/policy', value: policy() });
    expect(Object.keys((await admin(emu, 'GET', 'state')).resources)).toContain('products/gold');
    const deleted = await admin(emu, 'POST', 'edit', { address: 'apis/orders', delete: true });
    expect(deleted.deleted).toBe(true);
    const left = Object.keys((await admin(emu, 'GET', 'state')).resources);
    expect(left.filter((a) => a.startsWith('apis/'))).toEqual([]);
    expect(left).toContain('policies/policy');
    expect(left).toContain('products/gold/policies/policy');
  });
});
