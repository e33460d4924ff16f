/**
 * The UK-OB-like sandbox bank (`ukob`): an oidc-provider authorization server in FAPI mode on two hosts (front:
 * discovery, authorize, JWKS, the bank's signing keystore; mTLS: token, PAR, revocation, userinfo) and an mTLS
 * resource server with the Read/Write 4.0 APIs. `startSandbox()` calls `startUkobBank()` and puts the returned
 * entry under `banks.ukob` of sandbox.json. See README.md in this folder.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { documents, manifests } from '../../generated/index.js';
import { assertClientLoads } from '../authorization-server.js';
import type { FaultRegistry } from '../faults.js';
import type { BoundServer } from '../listen.js';
import type { ControlExtension } from '../control-server.js';
import type { CertificateAuthority, PemPair } from '../pki.js';
import { createResourceServer } from '../resource-server.js';
import { serverBasePath, type ResourceApi } from '../route-table.js';
import type { SandboxStats } from '../stats.js';
import { createUkobAuthorizationServer, type UkobFapiProfile } from './authorization-server.js';
import { createBodySchemas } from './body-schema.js';
import { createUkobControl } from './control.js';
import { UKOB_PSUS } from './data.js';
import { FxDesk } from './exchange-rates.js';
import { IntentStore } from './intents.js';
import { createUkobInteractionHandler } from './interaction.js';
import { createBankSigningKey, createIdTokenSigningKey, createTppCredentials, TRUST_ANCHOR } from './keys.js';
import { createUkobResourceProfile } from './resource-server.js';
import type { UkobSandboxBank } from './sandbox-entry.js';

export type { UkobFapiProfile } from './authorization-server.js';
export type { UkobSandboxBank } from './sandbox-entry.js';

/** Offsets from `SANDBOX_PORT_BASE` of the bank's three hosts. */
export const UKOB_PORT_OFFSETS = { as: 10, asMtls: 11, rs: 12 } as const;

export interface StartUkobBankOptions {
  /** Binds a server on 127.0.0.1 at `SANDBOX_PORT_BASE + offset` (ephemeral without a base); the sandbox closes it on stop. */
  readonly bind: (offset: number, tls?: HttpsServerOptions) => Promise<BoundServer>;
  readonly pki: { readonly ca: CertificateAuthority; readonly dir: string; readonly server: PemPair };
  readonly stats: SandboxStats;
  readonly faults?: FaultRegistry;
  readonly accessTtlSeconds?: number;
  /** Default: env `SANDBOX_UKOB_FAPI`, else `'2.0'`. */
  readonly fapiProfile?: UkobFapiProfile;
  readonly env?: NodeJS.ProcessEnv;
  /** The control plane's origin: the bank's control routes (control.ts) live under `/__sandbox/ukob` there. */
  readonly controlOrigin?: string;
}

/** The FAPI profile from `SANDBOX_UKOB_FAPI` (`2.0`, the default, or `1.0`); anything else stops the start. */
export function ukobFapiProfileFromEnv(env: NodeJS.ProcessEnv = process.env): UkobFapiProfile {
  const raw = env.SANDBOX_UKOB_FAPI?.trim();
  if (raw === undefined || raw === '' || raw === '2.0' || raw === '2') return '2.0';
  if (raw === '1.0' || raw === '1' || raw === '1.0 Final') return '1.0';
  throw new Error(`SANDBOX_UKOB_FAPI=${raw}: must be 2.0 (FAPI 2.0 Security Profile, the default) or 1.0 (FAPI 1.0 Advanced)`);
}

function resourceApis(): ResourceApi[] {
  // The 4.0 specs give relative server URLs (`/open-banking/v4.0/aisp`): the path is the base.
  return Object.entries(manifests.ukob).map(([name, manifest]) => ({
    name,
    manifest,
    basePath: manifest.servers[0]?.startsWith('/') ? manifest.servers[0].replace(/\/+$/, '') : serverBasePath(manifest),
  }));
}

/** Starts the bank's three hosts and returns its sandbox.json entry and its control routes. */
export async function startUkobBank(options: StartUkobBankOptions): Promise<{ readonly entry: UkobSandboxBank; readonly control: ControlExtension }> {
  const profile = options.fapiProfile ?? ukobFapiProfileFromEnv(options.env);
  const { pki } = options;
  const tls = { cert: pki.server.certPem, key: pki.server.keyPem };
  const [asHost, asMtlsHost, rsHost, tpp, idTokenKey, bankSigning] = await Promise.all([
    options.bind(UKOB_PORT_OFFSETS.as, tls),
    // The mTLS host asks for a certificate but lets oidc-provider judge it, so a wrong one is `invalid_client`.
    options.bind(UKOB_PORT_OFFSETS.asMtls, { ...tls, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false }),
    options.bind(UKOB_PORT_OFFSETS.rs, { ...tls, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true }),
    createTppCredentials(pki.ca, pki.dir),
    createIdTokenSigningKey(),
    createBankSigningKey(),
  ]);

  const intents = new IntentStore();
  const fx = new FxDesk();
  const as = createUkobAuthorizationServer({
    origin: asHost.origin,
    mtlsOrigin: asMtlsHost.origin,
    profile,
    tpp: { jwks: tpp.signing.jwks, transportCertPem: tpp.mtls.certPem, jwsIssuer: tpp.jwsIssuer },
    idTokenSigningKey: idTokenKey,
    intents,
    accessTtlSeconds: options.accessTtlSeconds,
    stats: options.stats,
    faults: options.faults,
  });
  await Promise.all([assertClientLoads(as.provider, as.clientId, 'ukob'), assertClientLoads(as.provider, as.mtlsClientId, 'ukob')]);

  // The bank's response-signing keys, where an Open Banking Directory keystore would publish them.
  const keystorePath = `/keystore/${bankSigning.orgId}/${bankSigning.orgId}.jwks`;
  const interactions = createUkobInteractionHandler(as.provider, intents, 'UK-OB-like bank');
  const callback = as.provider.callback();
  const asHandler = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && new URL(req.url ?? '/', 'http://sandbox').pathname === keystorePath) {
      res.setHeader('content-type', 'application/jwk-set+json');
      res.end(JSON.stringify(bankSigning.publicJwks));
      return;
    }
    interactions(req, res)
      .then((handled) => {
        if (!handled) return callback(req, res);
      })
      .catch((error: unknown) => {
        if (!res.headersSent) res.statusCode = 500;
        res.end(error instanceof Error ? error.message : String(error));
      });
  };
  asHost.handle(asHandler);
  asMtlsHost.handle(asHandler);

  const apis = resourceApis();
  rsHost.handle(
    createResourceServer({
      profile: createUkobResourceProfile({
        provider: as.provider,
        intents,
        fx,
        bodies: createBodySchemas(documents.ukob),
        jwsIssuers: new Map([
          [as.clientId, tpp.jwsIssuer],
          [as.mtlsClientId, tpp.jwsIssuer],
        ]),
        trustAnchor: TRUST_ANCHOR,
        signing: bankSigning,
      }),
      apis,
      provider: as.provider,
      stats: options.stats,
      origin: rsHost.origin,
      faults: options.faults,
    }),
  );

  const control = createUkobControl(intents, fx);
  return {
    control,
    entry: {
      fapiProfile: profile,
      ...(options.controlOrigin ? { controlUrl: `${options.controlOrigin}${control.prefix}` } : {}),
      authorizationServer: {
        issuer: as.issuer,
        discoveryUrl: as.discoveryUrl,
        authorizationEndpoint: as.authorizationEndpoint,
        tokenEndpoint: as.tokenEndpoint,
        parEndpoint: as.parEndpoint,
        mtlsTokenEndpoint: as.mtlsTokenEndpoint,
        mtlsParEndpoint: as.mtlsParEndpoint,
        revocationEndpoint: as.mtlsRevocationEndpoint,
        jwksUri: as.jwksUri,
      },
      client: { clientId: as.clientId, authMethod: 'private_key_jwt', signingAlg: 'PS256' },
      mtlsClient: { clientId: as.mtlsClientId, authMethod: 'tls_client_auth' },
      apis: Object.fromEntries(apis.map((api) => [api.name, `${rsHost.origin}${api.basePath}`])),
      mtls: { certFile: tpp.mtls.certFile, keyFile: tpp.mtls.keyFile },
      signing: {
        certFile: tpp.signing.certFile,
        keyFile: tpp.signing.keyFile,
        keyId: tpp.signing.keyId,
        alg: 'PS256',
        jwksFile: tpp.signing.jwksFile,
        jwsIssuer: tpp.jwsIssuer,
        trustAnchor: TRUST_ANCHOR,
      },
      bankSigning: { jwksUrl: `${asHost.origin}${keystorePath}`, keyId: bankSigning.keyId, issuer: bankSigning.orgId, trustAnchor: TRUST_ANCHOR },
      psuIds: UKOB_PSUS.map((psu) => psu.id),
    },
  };
}
