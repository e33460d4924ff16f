/**
 * The UK-OB-like bank's key material, generated at every start like the rest of the sandbox PKI:
 *   - the TPP's transport certificate (QWAC/OBWAC-like, EC) for mTLS and `tls_client_auth`;
 *   - the TPP's signing key (OBSeal-like, RSA, PS256) with its certificate, public JWKS and `kid` (the RFC 7638
 *     thumbprint): it signs `private_key_jwt` assertions, request objects and `x-jws-signature`; the bank registers
 *     the public JWKS as the client's `jwks`;
 *   - the bank's own keys: the authorization server's id_token signing key and the resource server's response
 *     signing key (both RSA, PS256), the latter published as a JWKS like an Open Banking Directory keystore.
 * TPP files go to `<dir>/sandbox-pki/ukob-*`; the bank's private keys never leave memory.
 */
import { generateKeyPair as generateNodeKeyPair, createPublicKey, X509Certificate } from 'node:crypto';
import { writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, importJWK, type CryptoKey, type JWK } from 'jose';
import type { CertificateAuthority } from '../pki.js';

const generateRsa = promisify(generateNodeKeyPair);

/** The trust anchor the sandbox's signing keys belong to (`http://openbanking.org.uk/tan`), as in the live ecosystem. */
export const TRUST_ANCHOR = 'openbanking.org.uk';
/** Open Banking Directory-like organisation ids: 18 characters, as the directory issues them. */
export const TPP_ORG_ID = '0015800001BKGTPPAA';
export const TPP_SOFTWARE_ID = 'bankgateSandboxTpp01';
export const BANK_ORG_ID = '0015800001UKOBBNKA';

export interface TppCredentials {
  readonly mtls: { readonly certPem: string; readonly keyPem: string; readonly certFile: string; readonly keyFile: string };
  readonly signing: {
    readonly certPem: string;
    readonly keyPem: string;
    readonly certFile: string;
    readonly keyFile: string;
    /** Public JWKS (one key: `kid`, `use: sig`, `alg: PS256`, `x5c`), also written to `jwksFile`. */
    readonly jwks: { readonly keys: readonly JWK[] };
    readonly jwksFile: string;
    readonly keyId: string;
  };
  readonly orgId: string;
  readonly softwareId: string;
  /** `http://openbanking.org.uk/iss` of the TPP's signatures: `<orgId>/<softwareId>`. */
  readonly jwsIssuer: string;
}

export interface BankSigningKey {
  readonly keyId: string;
  readonly privateKey: CryptoKey;
  readonly publicJwks: { readonly keys: readonly JWK[] };
  readonly orgId: string;
}

async function writeSecret(path: string, text: string, secret: boolean): Promise<void> {
  await writeFile(path, text, { mode: secret ? 0o600 : 0o644 });
  if (secret) await chmod(path, 0o600);
}

async function rsaJwk(): Promise<{ privateJwk: JWK; publicJwk: JWK; keyId: string }> {
  const { privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
  const privateJwk = privateKey.export({ format: 'jwk' }) as JWK;
  const publicJwk: JWK = { kty: privateJwk.kty, n: privateJwk.n, e: privateJwk.e };
  const keyId = await calculateJwkThumbprint(publicJwk);
  return { privateJwk: { ...privateJwk, kid: keyId, use: 'sig', alg: 'PS256' }, publicJwk: { ...publicJwk, kid: keyId, use: 'sig', alg: 'PS256' }, keyId };
}

/** Issues the TPP's transport and signing certificates from the sandbox CA and writes them to `pkiDir`. */
export async function createTppCredentials(ca: CertificateAuthority, pkiDir: string): Promise<TppCredentials> {
  const subject = { organization: 'Bankgate Sandbox TPP Ltd', organizationIdentifier: 'PSDGB-FCA-912345', country: 'GB' };
  const [transport, seal] = await Promise.all([
    ca.issueClient({ ...subject, commonName: TPP_SOFTWARE_ID }),
    ca.issueClient({ ...subject, commonName: `${TPP_SOFTWARE_ID} signing`, keyType: 'rsa' }),
  ]);
  const publicJwk = createPublicKey(seal.certPem).export({ format: 'jwk' }) as JWK;
  const keyId = await calculateJwkThumbprint({ kty: publicJwk.kty!, n: publicJwk.n!, e: publicJwk.e! });
  const x5c = new X509Certificate(seal.certPem).raw.toString('base64');
  const jwks = { keys: [{ kty: publicJwk.kty, n: publicJwk.n, e: publicJwk.e, kid: keyId, use: 'sig', alg: 'PS256', x5c: [x5c] }] };
  const files = {
    mtlsCert: join(pkiDir, 'ukob-qwac.pem'),
    mtlsKey: join(pkiDir, 'ukob-qwac-key.pem'),
    signingCert: join(pkiDir, 'ukob-signing.pem'),
    signingKey: join(pkiDir, 'ukob-signing-key.pem'),
    jwks: join(pkiDir, 'ukob-signing.jwks.json'),
  };
  await Promise.all([
    writeSecret(files.mtlsCert, transport.certPem, false),
    writeSecret(files.mtlsKey, transport.keyPem, true),
    writeSecret(files.signingCert, seal.certPem, false),
    writeSecret(files.signingKey, seal.keyPem, true),
    writeSecret(files.jwks, `${JSON.stringify(jwks, null, 2)}\n`, false),
  ]);
  return {
    mtls: { ...transport, certFile: files.mtlsCert, keyFile: files.mtlsKey },
    signing: { ...seal, certFile: files.signingCert, keyFile: files.signingKey, jwks, jwksFile: files.jwks, keyId },
    orgId: TPP_ORG_ID,
    softwareId: TPP_SOFTWARE_ID,
    jwsIssuer: `${TPP_ORG_ID}/${TPP_SOFTWARE_ID}`,
  };
}

/** The authorization server's id_token signing key, as oidc-provider takes it (a private JWK). */
export async function createIdTokenSigningKey(): Promise<JWK> {
  return (await rsaJwk()).privateJwk;
}

/** The resource server's response signing key (`x-jws-signature` on payment responses). */
export async function createBankSigningKey(): Promise<BankSigningKey> {
  const { privateJwk, publicJwk, keyId } = await rsaJwk();
  return { keyId, privateKey: (await importJWK(privateJwk, 'PS256')) as CryptoKey, publicJwks: { keys: [publicJwk] }, orgId: BANK_ORG_ID };
}
