/**
 * The sandbox banks: a SEB-like, an SG-like, a UK-OB-like (ukob/) and a Berlin-Group-like (bg/) bank on 127.0.0.1,
 * each with an oidc-provider authorization server
 * and an mTLS resource server serving its specs' operations, plus a plain-HTTP control server for stats.
 * Everything the gateway needs to reach them is written to `<dir>/sandbox.json` (see sandbox-file.ts).
 */
import { writeFile, chmod, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { manifests } from '../generated/index.js';
import type { ApiManifest } from '../plugin/manifest/types.js';
import { assertClientLoads, authorizationServerHandler, sandboxRedirectUris } from './authorization-server.js';
import { startBgBank, type BgSettings } from './bg/index.js';
import { createControlHandler } from './control-server.js';
import { FaultRegistry } from './faults.js';
import { SEB_PSUS, SG_PSUS } from './data.js';
import { bindServer, type BoundServer } from './listen.js';
import { createResourceServer } from './resource-server.js';
import { serverBasePath, type ResourceApi } from './route-table.js';
import type { SandboxFile } from './sandbox-file.js';
import { createSandboxPki } from './sandbox-pki.js';
import { createSebAuthorizationServer } from './seb/authorization-server.js';
import { createSebResourceProfile } from './seb/resource-server.js';
import { DEFAULT_SEB_SIGNING_TIMINGS, SebSignings, type SebSigningTimings } from './seb/signing.js';
import { createSgAuthorizationServer, SG_ACR_VALUES } from './sg/authorization-server.js';
import { refreshLedgerRoute } from './sg/refresh-ledger.js';
import { SgPaymentRequests } from './sg/payment-requests.js';
import { createSgResourceProfile } from './sg/resource-server.js';
import { SandboxStats } from './stats.js';
import { startUkobBank, ukobFapiProfileFromEnv, type UkobFapiProfile } from './ukob/index.js';

export type { SandboxFile } from './sandbox-file.js';
export type { StatsSnapshot, BankStats, RecordedRequest } from './stats.js';

export interface StartSandboxOptions {
  /** Where `sandbox.json` and `sandbox-pki/` go. Default `.bankgate` (relative to the working directory). */
  dir?: string;
  /** Access-token lifetime of both banks, client credentials included. Default env `SANDBOX_ACCESS_TTL`, else 3599 (SEB) / 599 (SG). */
  accessTtlSeconds?: number;
  /** Write `<dir>/sandbox.json`. Default true. The PKI files are always written: the sandbox file points at them. */
  writeFile?: boolean;
  /** Start-up and shutdown lines. Default: silent. */
  log?: (line: string) => void;
  /** The UK-OB-like bank's FAPI profile: `'2.0'` or `'1.0'` (Advanced). Default env `SANDBOX_UKOB_FAPI`, else `'2.0'`. */
  ukobFapiProfile?: UkobFapiProfile;
  /** The SEB-like bank's payment signing timings (Mobile BankID signs by itself after `mobileBankIdMs`). */
  seb?: Partial<SebSigningTimings>;
  /** The bg bank's timings and limits (decoupled approval and polling, settlement, …); see sandbox/bg/README.md. */
  bg?: Partial<BgSettings>;
}

export interface RunningSandbox {
  readonly file: SandboxFile;
  /** Absolute path of sandbox.json (also when `writeFile` is false: where it would be). */
  readonly filePath: string;
  /** Issues another client certificate from the sandbox CA (which the resource servers trust): for rotation tests. */
  issueClientCertificate(options: { commonName: string; keyType?: 'ec' | 'rsa'; notAfter?: Date }): Promise<{ certPem: string; keyPem: string }>;
  /** Closes every server and drops every token; safe to call twice. */
  stop(): Promise<void>;
}

/** Port offsets from `SANDBOX_PORT_BASE`, for operators who need fixed ports (firewalls, docker port maps). */
const PORT_OFFSETS = { control: 0, sebAs: 1, sebRs: 2, sgAs: 3, sgAsMtls: 4, sgRs: 5 } as const;

function envInteger(name: string, env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}=${raw}: must be a positive integer`);
  return value;
}

function resourceApis(bankManifests: Readonly<Record<string, ApiManifest>>): ResourceApi[] {
  return Object.entries(bankManifests).map(([name, manifest]) => ({ name, manifest, basePath: serverBasePath(manifest) }));
}

function apiUrls(origin: string, apis: readonly ResourceApi[]): Record<string, string> {
  return Object.fromEntries(apis.map((api) => [api.name, `${origin}${api.basePath}`]));
}

/**
 * Starts the sandbox banks and the control server on 127.0.0.1 and writes `<dir>/sandbox.json`.
 * Ports are ephemeral unless `SANDBOX_PORT_BASE` is set (then base+0 … base+5, base+10 … base+12 for ukob, base+20 … base+22 for bg).
 *
 * @example
 * const sandbox = await startSandbox({ dir: tmpDir, accessTtlSeconds: 2 });
 * sandbox.file.banks.sg.apis.aisp; // https://127.0.0.1:<port>/sg/sb/dsp2/aisp/v1.4.2.15
 * await sandbox.stop();
 */
export async function startSandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  const env = process.env;
  const dir = resolve(options.dir ?? '.bankgate');
  const log = options.log ?? (() => {});
  const accessTtlSeconds = options.accessTtlSeconds ?? envInteger('SANDBOX_ACCESS_TTL', env);
  const portBase = envInteger('SANDBOX_PORT_BASE', env);
  const ukobFapiProfile = options.ukobFapiProfile ?? ukobFapiProfileFromEnv(env);
  const port = (offset: number) => (portBase === undefined ? 0 : portBase + offset);

  await mkdir(dir, { recursive: true });
  const pki = await createSandboxPki(dir);
  const stats = new SandboxStats();
  // Armed through the control plane; the authorization and resource servers consume them (see faults.ts).
  const faults = new FaultRegistry();
  const servers: BoundServer[] = [];
  const tls = { cert: pki.server.certPem, key: pki.server.keyPem };
  // Resource servers refuse the handshake without a client certificate of the sandbox CA, as a bank does.
  const mtls = { ...tls, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true };

  let file: SandboxFile | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= Promise.all(servers.map((s) => s.close())).then(() => log('sandbox stopped')));

  try {
    const bind = async (offset: number, options?: Parameters<typeof bindServer>[1]) => {
      const server = await bindServer(port(offset), options);
      servers.push(server);
      return server;
    };
    const [control, sebAsHost, sebRsHost, sgAsHost, sgAsMtlsHost, sgRsHost] = await Promise.all([
      bind(PORT_OFFSETS.control),
      bind(PORT_OFFSETS.sebAs, tls),
      bind(PORT_OFFSETS.sebRs, mtls),
      bind(PORT_OFFSETS.sgAs, tls),
      // The token host asks for a certificate but lets oidc-provider judge it, so a wrong one is `invalid_client`.
      bind(PORT_OFFSETS.sgAsMtls, { ...tls, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: false }),
      bind(PORT_OFFSETS.sgRs, mtls),
    ]);

    const sebAs = createSebAuthorizationServer({ origin: sebAsHost.origin, accessTtlSeconds, stats, faults });
    const sebAsHandler = authorizationServerHandler(sebAs.provider, { bankTitle: 'SEB-like bank', psus: SEB_PSUS });
    let sebSignings: SebSignings | undefined;
    const sebProfile = createSebResourceProfile({
      signings: (execute) => (sebSignings = new SebSignings(sebAsHost.origin, (signing) => execute(signing.paymentId), { ...DEFAULT_SEB_SIGNING_TIMINGS, ...options.seb })),
    });
    // The Digipass signing page (payment SCA by redirect) is on the front host, beside the OAuth interactions.
    sebAsHost.handle((req, res) => {
      if (!sebSignings!.handle(req, res) && !sebAs.bankId.handle(req, res)) sebAsHandler(req, res);
    });
    const sebApis = resourceApis(manifests.seb);
    sebRsHost.handle(createResourceServer({ profile: sebProfile, apis: sebApis, provider: sebAs.provider, stats, origin: sebRsHost.origin, faults }));

    const sgAs = createSgAuthorizationServer({
      origin: sgAsHost.origin,
      mtlsOrigin: sgAsMtlsHost.origin,
      clientCertPem: pki.sg.certPem,
      accessTtlSeconds,
      stats,
      faults,
    });
    await Promise.all([assertClientLoads(sebAs.provider, sebAs.clientId, 'seb'), assertClientLoads(sgAs.provider, sgAs.clientId, 'sg')]);
    const ukob = await startUkobBank({ bind, pki, stats, faults, accessTtlSeconds, fapiProfile: ukobFapiProfile, controlOrigin: control.origin });
    const bg = await startBgBank({
      bind,
      tls,
      ca: pki.ca,
      pkiDir: pki.dir,
      controlOrigin: control.origin,
      stats,
      faults,
      accessTtlSeconds,
      settings: options.bg,
      extraRedirectUris: sandboxRedirectUris('bg', env),
    });
    const sgAsHandler = authorizationServerHandler(sgAs.provider, { bankTitle: 'SG-like bank', psus: SG_PSUS, acrValues: SG_ACR_VALUES });
    // The bank's consentApproval page (payment SCA) is on the front host, beside the OAuth interactions.
    const sgPaymentRequests = new SgPaymentRequests(sgAsHost.origin);
    sgAsHost.handle((req, res) => {
      if (!sgPaymentRequests.handle(req, res)) sgAsHandler(req, res);
    });
    sgAsMtlsHost.handle(sgAsHandler);
    const sgApis = resourceApis(manifests.sg);
    sgRsHost.handle(
      createResourceServer({
        profile: createSgResourceProfile({ signing: { keyId: pki.sgSeal.keyId, certPem: pki.sgSeal.certPem }, paymentRequests: sgPaymentRequests }),
        apis: sgApis,
        provider: sgAs.provider,
        stats,
        origin: sgRsHost.origin,
        faults,
      }),
    );

    file = {
      version: 1,
      caFile: pki.ca.certFile,
      controlUrl: `${control.origin}/__sandbox`,
      statsUrl: `${control.origin}/__sandbox/stats`,
      resetUrl: `${control.origin}/__sandbox/reset`,
      banks: {
        seb: {
          authorizationServer: {
            issuer: sebAs.issuer,
            authorizationEndpoint: sebAs.authorizationEndpoint,
            tokenEndpoint: sebAs.tokenEndpoint,
          },
          client: { clientId: sebAs.clientId, clientSecret: sebAs.clientSecret, authMethod: 'client_secret_post' },
          apis: apiUrls(sebRsHost.origin, sebApis),
          mtls: { certFile: pki.seb.certFile, keyFile: pki.seb.keyFile },
          nextMtls: { certFile: pki.sebNext.certFile, keyFile: pki.sebNext.keyFile },
          psuIds: SEB_PSUS.map((psu) => psu.id),
          controlUrl: `${control.origin}/__sandbox/seb`,
        },
        sg: {
          authorizationServer: {
            issuer: sgAs.issuer,
            discoveryUrl: sgAs.discoveryUrl,
            authorizationEndpoint: sgAs.authorizationEndpoint,
            tokenEndpoint: sgAs.tokenEndpoint,
            mtlsTokenEndpoint: sgAs.mtlsTokenEndpoint,
            revocationEndpoint: sgAs.mtlsRevocationEndpoint,
          },
          client: { clientId: sgAs.clientId, authMethod: 'tls_client_auth' },
          apis: apiUrls(sgRsHost.origin, sgApis),
          mtls: { certFile: pki.sg.certFile, keyFile: pki.sg.keyFile },
          nextMtls: { certFile: pki.sgNext.certFile, keyFile: pki.sgNext.keyFile },
          signing: { certFile: pki.sgSeal.certFile, keyFile: pki.sgSeal.keyFile, keyId: pki.sgSeal.keyId },
          psuIds: SG_PSUS.map((psu) => psu.id),
        },
        ukob: ukob.entry,
        bg: bg.entry,
      },
      untrustedClientCert: { certFile: pki.untrusted.certFile, keyFile: pki.untrusted.keyFile },
    };
    const current = file;
    control.handle(createControlHandler(stats, () => current, faults, [bg.control, ukob.control, sebSignings!.control(), refreshLedgerRoute(sgAs.ledger)]));

    const filePath = resolve(dir, 'sandbox.json');
    if (options.writeFile ?? true) {
      // 0600: it holds the SEB client secret.
      await writeFile(filePath, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
      await chmod(filePath, 0o600);
    }
    log(`sandbox ready (${filePath})`);
    const issueClientCertificate: RunningSandbox['issueClientCertificate'] = (opts) => pki.ca.issueClient(opts);
    return { file, filePath, issueClientCertificate, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
