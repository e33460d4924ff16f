/**
 * Starts the Berlin-Group-like bank `bg`: its OAuth server (front host + mTLS token host), its XS2A resource server
 * over mTLS, its QWAC for the gateway, and returns its sandbox.json entry and control routes. See README.md here.
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { documents, manifests } from '../../generated/index.js';
import { assertClientLoads } from '../authorization-server.js';
import type { ControlExtension } from '../control-server.js';
import type { FaultRegistry } from '../faults.js';
import type { BoundServer } from '../listen.js';
import type { CertificateAuthority, PemPair } from '../pki.js';
import type { SandboxBank, SandboxPemPair } from '../sandbox-file.js';
import type { SandboxStats } from '../stats.js';
import { createBgAuthorizationServer } from './authorization-server.js';
import { BgBank, DEFAULT_BG_SETTINGS, type BgSettings } from './bank.js';
import { createBgControl } from './control.js';
import { createOnlineBankingHandler } from './online-banking.js';
import { BG_PSUS, SANDBOX_OTP, SANDBOX_PASSWORD, type OnlineBanking } from './psus.js';
import { createBgResourceServer } from './resource-server.js';

export type { BgSettings } from './bank.js';

/** Port offsets from `SANDBOX_PORT_BASE`. */
export const BG_PORT_OFFSETS = { as: 20, asMtls: 21, rs: 22 } as const;
/** The spec declares no server URL; the bank serves the XS2A interface under this path, as its examples do. */
export const BG_BASE_PATH = '/psd2';
/** The gateway's (the TPP's) authorisation number in its QWAC: its identity at the bank and its OAuth client_id. */
export const BG_TPP_ID = 'PSDDE-BAFIN-152536';

/** `sandbox.json` `banks.bg`. */
export interface SandboxBgBank extends SandboxBank {
  readonly authorizationServer: SandboxBank['authorizationServer'] & {
    /** RFC 8414 metadata: what the bank's `scaOAuth` links point at. */
    readonly metadataUrl: string;
    /** The resource indicator every token is issued for (RFC 8707; defaulted, need not be sent). */
    readonly resource: string;
  };
  /** This bank's control routes (`GET` it for the list): the PSU's app, revocation, expiry, the clock. */
  readonly controlUrl: string;
  /** The sandbox PSUs' credentials and profiles (what decides the SCA approach: see sandbox/bg/README.md). */
  readonly psus: readonly {
    readonly psuId: string;
    readonly password: string;
    readonly otp: string;
    readonly onlineBanking: OnlineBanking;
    readonly app: boolean;
    readonly embeddedMethods: readonly string[];
  }[];
}

export interface StartBgBankOptions {
  /** Binds a server at `SANDBOX_PORT_BASE + offset` (or an ephemeral port). */
  readonly bind: (offset: number, tls: HttpsServerOptions) => Promise<BoundServer>;
  readonly tls: HttpsServerOptions;
  readonly ca: CertificateAuthority & { readonly certPem: string };
  /** Where the PKI files go (`<dir>/sandbox-pki`). */
  readonly pkiDir: string;
  readonly controlOrigin: string;
  readonly stats: SandboxStats;
  readonly faults: FaultRegistry;
  readonly accessTtlSeconds?: number;
  readonly settings?: Partial<BgSettings>;
  readonly extraRedirectUris: readonly string[];
}

export interface RunningBgBank {
  readonly entry: SandboxBgBank;
  readonly control: ControlExtension;
  readonly bank: BgBank;
}

async function saveQwac(dir: string, name: string, pair: PemPair): Promise<SandboxPemPair> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  await writeFile(certFile, pair.certPem, { mode: 0o644 });
  await writeFile(keyFile, pair.keyPem, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  return { certFile, keyFile };
}

export async function startBgBank(options: StartBgBankOptions): Promise<RunningBgBank> {
  const mtls = { ...options.tls, ca: options.ca.certPem, requestCert: true, rejectUnauthorized: true };
  const [asHost, asMtlsHost, rsHost] = await Promise.all([
    options.bind(BG_PORT_OFFSETS.as, options.tls),
    // The token host asks for a certificate but lets oidc-provider judge it: a wrong one is `invalid_client`.
    options.bind(BG_PORT_OFFSETS.asMtls, { ...options.tls, ca: options.ca.certPem, requestCert: true, rejectUnauthorized: false }),
    options.bind(BG_PORT_OFFSETS.rs, mtls),
  ]);
  const subject = { commonName: 'bankgate-qwac-bg', organization: 'Bankgate Sandbox TPP GmbH', organizationIdentifier: BG_TPP_ID, country: 'DE' };
  const [qwac, next] = await Promise.all([options.ca.issueClient(subject), options.ca.issueClient(subject)]);
  const resource = `${rsHost.origin}${BG_BASE_PATH}`;

  let bank: BgBank | undefined;
  const as = createBgAuthorizationServer({
    origin: asHost.origin,
    mtlsOrigin: asMtlsHost.origin,
    clientCertPem: qwac.certPem,
    clientId: BG_TPP_ID,
    resource,
    bank: () => bank!,
    accessTtlSeconds: options.accessTtlSeconds,
    stats: options.stats,
    faults: options.faults,
  });
  bank = new BgBank(
    { ...DEFAULT_BG_SETTINGS, ...options.settings },
    { onlineBanking: asHost.origin, oauthMetadata: as.metadataUrl, basePath: BG_BASE_PATH, extraRedirectUris: options.extraRedirectUris },
    (grantId) => as.revokeGrant(grantId),
  );
  await assertClientLoads(as.provider, as.clientId, 'bg');
  const pages = createOnlineBankingHandler({ bank, provider: as.provider, resource });
  asHost.handle(pages);
  asMtlsHost.handle(pages);
  rsHost.handle(
    createBgResourceServer({
      bank,
      provider: as.provider,
      manifest: manifests.bg.xs2a,
      document: documents.bg.xs2a as unknown as Record<string, unknown>,
      basePath: BG_BASE_PATH,
      origin: rsHost.origin,
      stats: options.stats,
      faults: options.faults,
    }),
  );

  const entry: SandboxBgBank = {
    authorizationServer: {
      issuer: as.issuer,
      metadataUrl: as.metadataUrl,
      discoveryUrl: as.discoveryUrl,
      authorizationEndpoint: as.authorizationEndpoint,
      tokenEndpoint: as.tokenEndpoint,
      mtlsTokenEndpoint: as.mtlsTokenEndpoint,
      revocationEndpoint: as.mtlsRevocationEndpoint,
      resource,
    },
    client: { clientId: as.clientId, authMethod: 'tls_client_auth' },
    apis: { xs2a: resource },
    mtls: await saveQwac(options.pkiDir, 'bg-qwac', qwac),
    nextMtls: await saveQwac(options.pkiDir, 'bg-qwac-next', next),
    psuIds: BG_PSUS.map((psu) => psu.id),
    controlUrl: `${options.controlOrigin}/__sandbox/bg`,
    psus: BG_PSUS.map((psu) => ({
      psuId: psu.id,
      password: SANDBOX_PASSWORD,
      otp: SANDBOX_OTP,
      onlineBanking: psu.onlineBanking,
      app: psu.app,
      embeddedMethods: psu.embeddedMethods.map((m) => m.authenticationMethodId),
    })),
  };
  return { entry, control: createBgControl(bank), bank };
}
