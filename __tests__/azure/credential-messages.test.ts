/**
 * The pieces of the login and TLS messages: which errors are TLS failures (a real Node handshake
 * error against the emulator, whose throw-away CA this process does not trust), the advice an ARM
 * call gets for one, and the audience warning the action and the CLI print first.
 */
import { request } from 'node:https';
import { join } from 'node:path';
import { explainArmError } from '../../src/azure/arm-errors.js';
import { tlsAdvice } from '../../src/azure/arm-retry.js';
import { audienceWarning, STANDARD_OIDC_AUDIENCES } from '../../src/azure/credential.js';
import { settingWarnings } from '../../src/ci/settings.js';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { SettingSource } from '../../src/model/ci-host.js';
import { ROOT } from '../helpers/run.js';

/** The error Node gives for a GET to `url` without the server's CA. */
function handshakeError(url: string): Promise<Error> {
  return new Promise((resolve, reject) => {
    const r = request(url, { method: 'GET' }, () => reject(new Error('the handshake succeeded: the CA is trusted')));
    r.on('error', resolve);
    r.end();
  });
}

test('a real handshake with an unknown CA is a TLS failure; a refused connection or an HTTP error is not', async () => {
  const emu = await startEmulator({ seedDir: join(ROOT, 'policies') });
  try {
    const err = await handshakeError(`${emu.ready.armEndpoint}/subscriptions`);
    const advice = tlsAdvice(err);
    expect(advice).toMatch(/NODE_EXTRA_CA_CERTS/);
    expect(advice).toMatch(/--write-env-file/);
    const target = { armEndpoint: emu.ready.armEndpoint, subscriptionId: emu.ready.subscriptionId, resourceGroup: emu.ready.resourceGroup, serviceName: emu.ready.serviceName };
    expect(explainArmError(err, 'GET service', target, 'read').message).toMatch(
      /^GET service: the TLS certificate of the endpoint is not trusted \(.+\)\. For the local emulator, start this command with NODE_EXTRA_CA_CERTS/,
    );
  } finally {
    await emu.close();
  }
  expect(tlsAdvice(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  expect(tlsAdvice(Object.assign(new Error('Not found'), { statusCode: 404 }))).toBeUndefined();
  expect(tlsAdvice(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toMatch(/\(SELF_SIGNED_CERT_IN_CHAIN\)/);
}, 30000);

const source = (values: Record<string, string>, label: (name: string) => string): SettingSource => ({
  value: (name) => values[name],
  values: () => [],
  flag: () => false,
  label,
});

test('the standard audiences of the three clouds pass; anything else is warned about, naming the input or flag', () => {
  expect(STANDARD_OIDC_AUDIENCES).toEqual(['api://AzureADTokenExchange', 'api://AzureADTokenExchangeUSGov', 'api://AzureADTokenExchangeChina']);
  for (const a of STANDARD_OIDC_AUDIENCES) expect(audienceWarning(a, '--audience')).toBeUndefined();
  expect(audienceWarning(undefined, '--audience')).toBeUndefined();
  expect(settingWarnings(source({}, (n) => `input ${n}`))).toEqual([]);
  const [warning, ...more] = settingWarnings(source({ audience: 'api://AzureADTokenExchange/' }, (n) => `input ${n}`));
  expect(more).toEqual([]);
  expect(warning).toMatch(/^input audience "api:\/\/AzureADTokenExchange\/" is not a standard audience/);
  expect(warning).toMatch(/drop input audience to use api:\/\/AzureADTokenExchange\.$/);
});
