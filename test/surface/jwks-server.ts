import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload, type CryptoKey } from 'jose';

/** The test's own token issuer: an ES256 key pair and a JWKS endpoint on loopback. */
export interface TestIssuer {
  readonly issuer: string;
  readonly jwksUrl: string;
  sign(claims: JWTPayload & { sub: string }, options?: { audience?: string; expiresIn?: string | number; key?: CryptoKey; issuer?: string }): Promise<string>;
  /** A key the JWKS does not publish. */
  readonly strangerKey: CryptoKey;
  close(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const stranger = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-1', alg: 'ES256', use: 'sig' };
  const server: Server = createServer((req, res) => {
    if (req.url !== '/jwks') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = 'https://issuer.internal.test';
  return {
    issuer,
    jwksUrl: `${base}/jwks`,
    strangerKey: stranger.privateKey,
    async sign(claims, options = {}) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'test-1' })
        .setIssuer(options.issuer ?? issuer)
        .setAudience(options.audience ?? 'bankgate')
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '5m')
        .sign(options.key ?? privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
