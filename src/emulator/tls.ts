/**
 * TLS for the emulator: a throw-away CA and a 127.0.0.1/localhost server certificate signed by it,
 * both made at start (nothing is committed). The CA PEM is written to a temp file so that child
 * processes can trust it through `NODE_EXTRA_CA_CERTS`; in-process SDK clients can pass
 * `tlsOptions: { ca: tls.caCert }` instead.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface EmulatorTls {
  /** CA certificate (PEM) to trust. */
  caCert: string;
  /** Server certificate (PEM) for 127.0.0.1, ::1 and localhost. */
  cert: string;
  /** Server private key (PEM), kept in memory only. */
  key: string;
  /** Temp file holding `caCert`, for `NODE_EXTRA_CA_CERTS`. */
  caFile: string;
  /** Removes the temp directory. */
  dispose(): void;
}

export async function createTls(): Promise<EmulatorTls> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 7 * 24 * 3600_000);
  const ca = await generate([{ name: 'commonName', value: 'apim-policy-deploy emulator CA (throw-away)' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'apim-emulator-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);
  return {
    caCert: ca.cert,
    cert: server.cert,
    key: server.private,
    caFile,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
