/** One settings parser for the action's inputs and the CLI's flags: the same words give the same settings. */
import { parseSettings } from '../../src/ci/settings.js';
import { flagSettings } from '../../src/cli/target.js';
import { fakeCiHost } from '../helpers/fake-ci-host.js';

const inputs = (values: Record<string, string>) => fakeCiHost({ eventName: 'push' }, values).settings;

describe('settings', () => {
  it('reads allowed-scopes the same from an input (one per line) and from the flag (words, commas)', () => {
    const fromInput = parseSettings(inputs({ 'allowed-scopes': '/subscriptions/a\n  /subscriptions/b/resourceGroups/rg  \n' })).settings.guardrails;
    const fromFlags = parseSettings(flagSettings({ allowedScopes: ['/subscriptions/a,/subscriptions/b/resourceGroups/rg'] })).settings.guardrails;
    expect(fromInput).toEqual({ allowPrivilegedRoles: false, allowedScopes: ['/subscriptions/a', '/subscriptions/b/resourceGroups/rg'] });
    expect(fromFlags).toEqual(fromInput);
  });

  it('names the input or the flag of a max-deletes it cannot use, and keeps the rest', () => {
    const action = parseSettings(inputs({ 'max-deletes': '2.5', 'service-name': 'apim' }));
    expect(action.problems).toEqual([{ setting: 'max-deletes', message: 'input max-deletes must be a whole number of deletes, or -1 for no limit (got "2.5")' }]);
    expect(action.settings.target).toEqual({ serviceName: 'apim' });
    const cli = parseSettings(flagSettings({ maxDeletes: 'x' }));
    expect(cli.problems.map((p) => p.message)).toEqual(['--max-deletes must be a whole number of deletes, or -1 for no limit (got "x")']);
    expect(parseSettings(inputs({})).settings).toMatchObject({ mode: 'auto', policiesPath: 'policies', apply: { allowDeletes: false, maxDeletes: 10, allowDestructiveIdentityChanges: false } });
  });
});
