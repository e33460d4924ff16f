import { beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../../../../sandbox/pki.js';
import { createNodeTransport, type NodeTransportOptions } from './node-transport.js';
import { resolveNodeTransportOptions } from './options.js';
import { createTestPki, type TestPki } from './upstream.fixture.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await createTestPki();
});

const base = (): NodeTransportOptions => ({ bank: 'sg', tls: { ca: pki.caPem, cert: pki.client.certPem, key: pki.client.keyPem } });

function configError(options: NodeTransportOptions): string {
  try {
    createNodeTransport(options);
  } catch (error) {
    expect(error).toMatchObject({ code: 'config_invalid', status: 500 });
    return (error as Error).message;
  }
  throw new Error('expected config_invalid');
}

describe('resolveNodeTransportOptions', () => {
  it('applies the defaults', () => {
    const resolved = resolveNodeTransportOptions(base());
    expect(resolved.timeouts).toEqual({ connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000, totalMs: 60_000 });
    expect(resolved.maxResponseBytes).toBe(10 * 1024 * 1024);
    expect(resolved.keepAliveMs).toBe(10_000);
    expect(resolved.tls.ca).toEqual([pki.caPem]);
    expect(resolved.signing).toBeUndefined();
  });

  it('names the config path of every bad field, without echoing secrets', async () => {
    const other = await (await createCertificateAuthority('x')).issueClient({ commonName: 'y' });
    expect(configError({ ...base(), tls: { ...base().tls, key: other.keyPem } })).toBe(
      'banks.sg.mtls.key: does not belong to the certificate in banks.sg.mtls.cert',
    );
    expect(configError({ ...base(), tls: { ...base().tls, cert: './qwac.pem' } })).toMatch(/^banks\.sg\.mtls\.cert: must be the PEM text/);
    const badKey = configError({ ...base(), tls: { ...base().tls, key: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' } });
    expect(badKey).toMatch(/^banks\.sg\.mtls\.key: is not a readable private key/);
    expect(badKey).not.toContain('nope');
    expect(configError({ ...base(), tls: { ...base().tls, ca: [pki.caPem, 'garbage'] } })).toMatch(/^banks\.sg\.mtls\.ca\[1\]: must be the PEM text/);
    expect(configError({ ...base(), timeouts: { headersMs: 0 } })).toBe('banks.sg.timeouts.headersMs: must be a positive integer, got 0');
    expect(configError({ ...base(), maxResponseBytes: 1.5 })).toBe('banks.sg.maxResponseBytes: must be a positive integer, got 1.5');
    expect(configError({ ...base(), signing: { keyId: 'a"b', key: pki.sealing.keyPem } })).toMatch(/^banks\.sg\.signing\.keyId: /);
    expect(configError({ ...base(), signing: { keyId: 'k', key: pki.sealing.keyPem, headers: ['digest', 'signature'] } })).toBe(
      'banks.sg.signing.headers: cannot sign the signature header itself',
    );
    expect(configError({ ...base(), bank: '' })).toBe('transport.bank: must be the bank name');
  });

  it('reads an encrypted key with its passphrase', async () => {
    const { createPrivateKey } = await import('node:crypto');
    const encrypted = createPrivateKey(pki.client.keyPem)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
      .toString();
    expect(() => resolveNodeTransportOptions({ ...base(), tls: { ...base().tls, key: encrypted, passphrase: 'pw' } })).not.toThrow();
    expect(configError({ ...base(), tls: { ...base().tls, key: encrypted, passphrase: 'wrong' } })).toMatch(/^banks\.sg\.mtls\.key: is not a readable private key/);
  });
});
