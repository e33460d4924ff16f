/**
 * Certificates through the gateway and the sandbox: the bank's server certificate is checked (host name,
 * CA), a client certificate that cannot be used is refused at start with the reason and the fix, and SEB's
 * real legacy-encrypted sandbox `.pfx` gives the promised error whose conversion command works here.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../plugin/index.js';
import { loadClientIdentity } from '../../plugin/adapter/node/transport/client-identity.js';
import { inspectCertificate } from '../../plugin/adapter/node/transport/certificate-info.js';
import type { PemMtlsInput } from '../../plugin/transport/config-schema.js';
import { createCertificateAuthority } from '../../sandbox/pki.js';
import { problemOf, startHarness, type Harness } from '../e2e/harness.js';

const SEB_PFX = new URL('../../../shared/specs/seb/sandbox-certificates/open-banking.pfx', import.meta.url).pathname;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bankgate-certs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startFailure(adjust: Parameters<typeof startHarness>[0] extends infer O ? (O extends { adjust?: infer A } ? A : never) : never): Promise<ConfigError> {
  const error = await startHarness({ adjust }).then(
    async (h) => {
      await h.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("the bank's server certificate is checked", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a certificate not issued for the expected host name → 502 bank_certificate_untrusted', async () => {
    h = await startHarness({
      adjust: (config) => {
        config.banks.sg!.mtls = { ...(config.banks.sg!.mtls as PemMtlsInput), servername: 'api.other-bank.example' };
      },
    });
    const response = await h.call('/sg/pisp/payment-requests/x');
    expect(response.status).toBe(502);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ code: 'bank_certificate_untrusted', bank: 'sg', reason: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(problem.detail).toContain('not issued for the host');
    expect((await h.stats()).banks.sg.resourceCalls).toEqual({});
  });

  it('a certificate from a CA other than the pinned one → 502 bank_certificate_untrusted', async () => {
    const otherCa = await createCertificateAuthority('some other CA');
    writeFileSync(join(dir, 'other-ca.pem'), otherCa.certPem);
    h = await startHarness({
      adjust: (config) => {
        config.banks.sg!.mtls = { ...(config.banks.sg!.mtls as PemMtlsInput), ca: { file: join(dir, 'other-ca.pem') } };
      },
    });
    const response = await h.call('/sg/pisp/payment-requests/x');
    expect(response.status).toBe(502);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ code: 'bank_certificate_untrusted', bank: 'sg' });
    expect(problem.reason).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
  });
});

describe('client certificates refused at start', () => {
  it('an expired client certificate', async () => {
    const ca = await createCertificateAuthority('sandbox-like CA');
    const expired = await ca.issueClient({ commonName: 'old-qwac', notBefore: new Date('2023-01-01'), notAfter: new Date('2024-01-01') });
    writeFileSync(join(dir, 'expired.pem'), expired.certPem);
    writeFileSync(join(dir, 'expired-key.pem'), expired.keyPem, { mode: 0o600 });
    const error = await startFailure((config) => {
      config.banks.seb!.mtls = { ...config.banks.seb!.mtls, cert: { file: join(dir, 'expired.pem') }, key: { file: join(dir, 'expired-key.pem') } };
    });
    expect(error.code).toBe('config_invalid');
    expect(error.problems).toEqual([expect.stringMatching(/^banks\.seb\.mtls\.cert: certificate CN=old-qwac.* expired on 2024-01-01T00:00:00\.000Z; renew the QWAC/)]);
  });

  it("SEB's legacy .pfx: the reason and the exact conversion commands, which work here; the PEM loads, and is refused as expired", async () => {
    const pfx = join(dir, 'open-banking.pfx');
    copyFileSync(SEB_PFX, pfx);
    const error = await startFailure((config) => {
      config.banks.seb!.mtls = { pfx: { file: pfx }, passphrase: { value: 'qwerty' }, ca: config.banks.seb!.mtls.ca };
    });
    expect(error.problems).toHaveLength(1);
    const problem = error.problems[0]!;
    expect(problem).toMatch(/^banks\.seb\.mtls\.pfx: is a PKCS#12 file encrypted with a legacy algorithm \(such as pbeWithSHA1And40BitRC2-CBC\)/);

    // Run the commands exactly as printed (plus the passphrase, as the message says to add it).
    const commands = [...problem.matchAll(/`(openssl pkcs12 [^`]+)`/g)].map((m) => m[1]!);
    expect(commands).toEqual([
      `openssl pkcs12 -legacy -in ${pfx} -nodes -out ${join(dir, 'open-banking.pem')}`,
      `openssl pkcs12 -legacy -in ${pfx} -clcerts -nokeys -out ${join(dir, 'open-banking-cert.pem')}`,
      `openssl pkcs12 -legacy -in ${pfx} -nocerts -nodes -out ${join(dir, 'open-banking-key.pem')}`,
    ]);
    for (const command of commands) execFileSync('openssl', [...command.split(' ').slice(1), '-passin', 'pass:qwerty'], { stdio: 'pipe' });

    // One file as both cert and key, and the two-file form: both load for inspection, with the same certificate.
    const one = readFileSync(join(dir, 'open-banking.pem'), 'utf8');
    const single = loadClientIdentity({ cert: one, key: one });
    const pair = loadClientIdentity({ cert: readFileSync(join(dir, 'open-banking-cert.pem'), 'utf8'), key: readFileSync(join(dir, 'open-banking-key.pem'), 'utf8') });
    expect(pair.thumbprint).toBe(single.thumbprint);
    expect(single.certificate.subject).toContain('CN=generic-sandbox');
    expect(inspectCertificate(Buffer.from(one)).status).toBe('expired');

    // …and the gateway refuses it at start: it expired on 2026-08-13.
    const expired = await startFailure((config) => {
      config.banks.seb!.mtls = { cert: { file: join(dir, 'open-banking.pem') }, key: { file: join(dir, 'open-banking.pem') }, ca: config.banks.seb!.mtls.ca };
    });
    expect(expired.problems).toEqual([expect.stringMatching(/^banks\.seb\.mtls\.cert: certificate .*CN=generic-sandbox.* expired on 2026-08-13T10:50:35\.000Z/)]);
  });

  it('a PKCS#12 with the wrong passphrase says so', async () => {
    const pfx = join(dir, 'modern.p12');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'm.key'), '-out', join(dir, 'm.crt'), '-subj', '/CN=modern', '-days', '30'], { stdio: 'pipe' });
    execFileSync('openssl', ['pkcs12', '-export', '-in', join(dir, 'm.crt'), '-inkey', join(dir, 'm.key'), '-out', pfx, '-passout', 'pass:right'], { stdio: 'pipe' });
    const error = await startFailure((config) => {
      config.banks.seb!.mtls = { pfx: { file: pfx }, passphrase: { value: 'wrong' } };
    });
    expect(error.problems).toEqual(['banks.seb.mtls.pfx: cannot be opened: wrong or missing passphrase (PKCS#12 MAC check failed)']);
  });
});
