/**
 * `npm run cert` and `npm run sign`, spawned as an operator runs them.
 */
import { execFile } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import httpSignature from 'http-signature';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSigning } from '../../plugin/transport/signing-options.js';
import { createRequestSigner } from '../../plugin/transport/request-signer.js';
import { certificateThumbprint, createCertificateAuthority } from '../../sandbox/pki.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const SEB_PFX = new URL('../../../shared/specs/seb/sandbox-certificates/open-banking.pfx', import.meta.url).pathname;

async function tool(script: 'cert' | 'sign', args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [join(ROOT, `scripts/${script}.ts`), ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let dir: string;
let seal: { certPem: string; keyPem: string };
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bankgate-tools-'));
  const ca = await createCertificateAuthority('tools CA');
  seal = await ca.issueClient({ commonName: 'tpp-qseal', organization: 'TPP', keyType: 'rsa' });
  writeFileSync(join(dir, 'qseal.pem'), seal.certPem);
  writeFileSync(join(dir, 'qseal-key.pem'), seal.keyPem);
  writeFileSync(join(dir, 'body.json'), '{"instructedAmount":{"currency":"EUR","amount":"1.00"}}');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run cert -- inspect', () => {
  it('a PEM: subject, issuer, validity, key type, x5t#S256 (through the npm script)', async () => {
    const { stdout } = await run('npm', ['run', '-s', 'cert', '--', 'inspect', join(dir, 'qseal.pem')], { cwd: ROOT });
    expect(stdout).toMatch(/^subject: +CN=tpp-qseal, O=TPP$/m);
    expect(stdout).toMatch(/^issuer: +O=bankgate sandbox, CN=tools CA$/m);
    expect(stdout).toMatch(/^valid until: +\S+ +\(expires in 36[45] days\)$/m);
    expect(stdout).toMatch(/^status: +valid$/m);
    expect(stdout).toMatch(/^key type: +RSA 2048$/m);
    expect(stdout).toContain(`x5t#S256:    ${certificateThumbprint(seal.certPem)}`);
  });

  it("SEB's legacy PKCS#12: exit 1, the reason and the conversion command", async () => {
    const pfx = join(dir, 'open-banking.pfx');
    copyFileSync(SEB_PFX, pfx);
    const result = await tool('cert', ['inspect', pfx, '--passphrase', 'qwerty']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('legacy algorithm (such as pbeWithSHA1And40BitRC2-CBC)');
    expect(result.stderr).toContain(`\`openssl pkcs12 -legacy -in ${pfx} -nodes -out ${join(dir, 'open-banking.pem')}\``);
  });

  it('an expired certificate says expired (the converted SEB certificate)', async () => {
    const pem = join(dir, 'seb.pem');
    await run('openssl', ['pkcs12', '-legacy', '-in', SEB_PFX, '-nodes', '-out', pem, '-passin', 'pass:qwerty']);
    const result = await tool('cert', ['inspect', pem]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^status: +expired$/m);
    expect(result.stdout).toMatch(/^valid until: +2026-08-13T10:50:35\.000Z +\(expired \d+ days ago\)$/m);
    expect(result.stdout).toMatch(/^private key: +matches$/m);
  });

  it('a readable PKCS#12 with its passphrase', async () => {
    const p12 = join(dir, 'qseal.p12');
    await run('openssl', ['pkcs12', '-export', '-in', join(dir, 'qseal.pem'), '-inkey', join(dir, 'qseal-key.pem'), '-out', p12, '-passout', 'pass:pw']);
    const result = await tool('cert', ['inspect', p12, '--passphrase', 'pw']);
    expect(result.stdout).toMatch(/^format: +PKCS#12$/m);
    expect(result.stdout).toContain(certificateThumbprint(seal.certPem));
  });
});

describe('npm run sign', () => {
  const args = (extra: string[] = []) => [
    '--key', join(dir, 'qseal-key.pem'), '--cert', join(dir, 'qseal.pem'), '--key-id', 'SN=1,CA=tools',
    '--method', 'POST', '--url', 'https://api.bank.example/pisp/v1/payment-requests?x=1',
    '--header', 'X-Request-ID: 3f1c7a52-96a8-4d5e-9d1e-0c1a3b7d2e11', '--header', 'Date: Sun, 22 Nov 2026 10:00:00 GMT',
    '--body', join(dir, 'body.json'), ...extra,
  ];

  it('prints exactly the headers the transport signer produces for that request', async () => {
    const result = await tool('sign', args());
    expect(result.code).toBe(0);
    const printed = Object.fromEntries(result.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
    expect(Object.keys(printed)).toEqual(['Digest', 'Signature', 'TPP-Signature-Certificate']);
    const expected = await createRequestSigner('x', prepareSigning({ keyId: 'SN=1,CA=tools', key: seal.keyPem, certificate: seal.certPem }, 'x'))({
      method: 'POST',
      path: '/pisp/v1/payment-requests?x=1',
      headers: { 'x-request-id': '3f1c7a52-96a8-4d5e-9d1e-0c1a3b7d2e11', date: 'Sun, 22 Nov 2026 10:00:00 GMT' },
      body: new Uint8Array(Buffer.from('{"instructedAmount":{"currency":"EUR","amount":"1.00"}}')),
    });
    expect(printed).toEqual({ Digest: expected.digest, Signature: expected.signature, 'TPP-Signature-Certificate': new X509Certificate(seal.certPem).raw.toString('base64') });

    // An independent verifier agrees.
    const request = {
      method: 'POST',
      url: '/pisp/v1/payment-requests?x=1',
      httpVersion: '1.1',
      headers: { 'x-request-id': '3f1c7a52-96a8-4d5e-9d1e-0c1a3b7d2e11', date: 'Sun, 22 Nov 2026 10:00:00 GMT', digest: printed.Digest, authorization: `Signature ${printed.Signature}` },
    };
    const parsed = httpSignature.parseRequest(request as never, { clockSkew: Number.MAX_SAFE_INTEGER });
    expect(httpSignature.verifySignature(parsed, createPublicKey(seal.certPem).export({ type: 'spki', format: 'pem' }).toString())).toBe(true);
  });

  it('adds and prints Date when the signed list has it and none was given; --signed-headers changes the list', async () => {
    const result = await tool('sign', args(['--signed-headers', '(request-target) digest x-request-id']).filter((a, i, all) => !(a.startsWith('Date:') || all[i + 1]?.startsWith('Date:'))));
    expect(result.stdout).not.toMatch(/^Date:/m);
    expect(result.stdout).toMatch(/headers="\(request-target\) digest x-request-id"/);
    const withDate = await tool('sign', args().filter((a, i, all) => !(a.startsWith('Date:') || all[i + 1]?.startsWith('Date:'))));
    expect(withDate.stdout).toMatch(/^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/m);
  });

  it('a missing required option is an error naming it', async () => {
    const result = await tool('sign', ['--key', join(dir, 'qseal-key.pem')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^sign: --key-id is required/);
  });
});
