import { consentSchema, type ConsentConfig, type PaymentsConfig, type UnattendedConfig } from '../consent/config-schema.js';
import { BankgateError } from '../errors/bankgate-error.js';
import type { ApiManifest, PrecompiledValidatorModule } from '../manifest/types.js';
import type { StoreConfig } from '../store/config-schema.js';
import { resolveCallers, type ResolvedCallers } from '../surface/resolve-callers.js';
import type { MtlsConfig, TransportConfig } from '../transport/config-schema.js';
import { resolveSigning } from '../transport/resolve-signing.js';
import type { JoseSigningKey } from '../oauth/signing-key.js';
import { resolveOAuthSecurity, type ResolvedAuthorizationRequest, type ResolvedJws, type ResolvedSenderConstraint } from '../oauth/resolve-oauth.js';
import type { DecryptPrivateKey, ResolvedSigning } from '../transport/signing-options.js';
import type { ConfigInput } from './define-config.js';
import type { AuthorizationChoice } from './credentials-schema.js';
import { checkApiCredentials, readCredentials, type ResolvedCredential } from './resolve-credentials.js';
import { configSchema, type ParsedBankConfig } from './schema.js';
import { ProblemCollector, type SecretSource } from './secret-ref.js';

export interface ResolvedApi {
  readonly name: string;
  readonly manifest: ApiManifest;
  /** Where this API lives at the bank: origin plus the spec server's path. */
  readonly baseUrl: URL;
  /** The bank's normalised OpenAPI document of this API, when configured: validation and /openapi.json use it. */
  readonly document?: Readonly<Record<string, unknown>>;
  /** The document's precompiled validators (`apis.<api>.validators`), when configured. */
  readonly validators?: PrecompiledValidatorModule;
  /** This API's own QWAC, when `apis.<api>.mtls` overrides the bank's: data, read by the runtime's transport factory. */
  readonly mtls?: MtlsConfig;
  /** The token of operations declaring `Authorization` without a scheme (`apis.<api>.authorization`, else the bank's). */
  readonly authorization?: AuthorizationChoice;
  /** Request body limits by operationId (`apis.<api>.requestBodyLimits`), in place of the bank's `transport.maxRequestBytes`. */
  readonly requestBodyLimits?: ReadonlyMap<string, number>;
}

export interface ResolvedBank {
  readonly name: string;
  readonly displayName: string;
  readonly apis: ReadonlyMap<string, ResolvedApi>;
  readonly authorizationServer: ParsedBankConfig['authorizationServer'];
  readonly client: {
    readonly clientId: string;
    readonly method: ParsedBankConfig['client']['auth']['method'];
    readonly secret?: string;
    /** The `private_key_jwt` signing key (imported into WebCrypto). */
    readonly assertionKey?: JoseSigningKey;
  };
  /** How authorization requests are sent and their responses checked (plain, PAR, request objects, FAPI profiles). */
  readonly authorizationRequest: ResolvedAuthorizationRequest;
  /** How access tokens are bound: the client certificate (`mtls`) or a DPoP key. */
  readonly senderConstraint: ResolvedSenderConstraint;
  /** UK Open Banking message signing (`x-jws-signature`), when configured. */
  readonly jws?: ResolvedJws;
  /** `banks.<bank>.consent` with `scopes` resolved (default: every PSU scope of the bank's manifests). */
  readonly consent: ConsentConfig & { readonly scopes: readonly string[] };
  /** `banks.<bank>.payments`, when the gateway authorises and follows the bank's payments. */
  readonly payments?: PaymentsConfig;
  readonly unattended: UnattendedConfig;
  /** The bank's QWAC (`banks.<bank>.mtls`): data, read and checked by the runtime's transport factory at start. */
  readonly mtls: MtlsConfig;
  /** The QSeal signing key, checked and imported into WebCrypto. */
  readonly signing?: ResolvedSigning;
  /** `banks.<bank>.transport`, defaults applied. */
  readonly transport: TransportConfig;
  readonly refreshSkewSeconds: number;
  /** Lower-case header name → value of the bank's owned headers (`tpp-redirect-uri`, …). */
  readonly headers: Readonly<Record<string, string>>;
  /** `banks.<bank>.credentials`, read: security scheme name → API key, or a static `Authorization` value. */
  readonly credentials: ReadonlyMap<string, ResolvedCredential>;
}

export interface ResolvedConfig {
  readonly publicUrl?: string;
  /** Origins a connection's `returnTo` may point at, besides the gateway's own. */
  readonly returnToOrigins: readonly string[];
  /** Undefined when none was configured: the gateway then generates one and prints it. */
  readonly devKey?: string;
  readonly callers: ResolvedCallers;
  readonly store: StoreConfig;
  readonly validation: { readonly requests: boolean; readonly responses: 'off' | 'report' | 'enforce' };
  readonly banks: ReadonlyMap<string, ResolvedBank>;
}

/** Thrown once at start with every problem found, each under its config path. */
export class ConfigError extends BankgateError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('config_invalid', { status: 500, detail: `hono.config.ts is invalid:\n  - ${problems.join('\n  - ')}` });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Where the config's references are read from, and how encrypted keys are decrypted: a runtime (`nodeRuntime()`) is one. */
export interface ConfigSource extends SecretSource {
  readonly decryptPrivateKey?: DecryptPrivateKey;
}

/**
 * Validates the config once, at start-up, and reads every referenced secret (from the runtime's environment
 * and files). Every problem is reported together, each under its path (`banks.sg.client.auth.secret: …`).
 * TLS material (`mtls`) stays data here: the runtime's transport factory reads and checks it
 * (`createGateway` reports those problems together with these).
 * @example const config = await resolveConfig(input, nodeRuntime());
 */
export async function resolveConfig(input: ConfigInput, source: ConfigSource): Promise<ResolvedConfig> {
  const collector = new ProblemCollector(source);
  const config = await collectConfig(input, collector, source);
  if (collector.problems.length > 0) throw new ConfigError(collector.problems);
  return config;
}

/**
 * The config with every problem recorded in `collector` instead of thrown, so that a caller can add its own
 * (the transports') before reporting them all. Only a config that does not match the schema throws at once:
 * nothing else can be read then. What a recorded problem leaves unread is undefined.
 */
export async function collectConfig(input: ConfigInput, collector: ProblemCollector, source: Pick<ConfigSource, 'name' | 'decryptPrivateKey'>): Promise<ResolvedConfig> {
  const raw = typeof input === 'function' ? await input() : input;
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`));
  }
  const reading = { runtime: source.name, ...(source.decryptPrivateKey ? { decryptPrivateKey: source.decryptPrivateKey } : {}) };
  const banks = new Map<string, ResolvedBank>();
  for (const [bankName, bank] of Object.entries(parsed.data.banks)) {
    const at = `banks.${bankName}`;
    const apis = new Map<string, ResolvedApi>();
    for (const [apiName, api] of Object.entries(bank.apis)) {
      const base = api.baseUrl ?? api.manifest.servers[0];
      if (!base) {
        collector.add(`${at}.apis.${apiName}.baseUrl: the spec lists no server; set baseUrl`);
        continue;
      }
      const baseUrl = new URL(base);
      if (baseUrl.protocol !== 'https:') collector.add(`${at}.apis.${apiName}.baseUrl: ${base} is not https; banks are only called over TLS`);
      const authorization = api.authorization ?? bank.authorization;
      checkApiCredentials({ bank: bankName, api: apiName }, api.manifest.routes, bank.credentials, authorization, collector);
      apis.set(apiName, { name: apiName, manifest: api.manifest, baseUrl, document: api.document, ...(api.validators ? { validators: api.validators } : {}), ...(api.mtls ? { mtls: api.mtls } : {}), ...(authorization ? { authorization } : {}), ...(api.requestBodyLimits ? { requestBodyLimits: new Map(Object.entries(api.requestBodyLimits)) } : {}) });
    }
    const auth = bank.client.auth;
    const secret = 'secret' in auth ? collector.read(auth.secret, `${at}.client.auth.secret`) : undefined;
    const signing = await resolveSigning(bank.signing, at, collector, reading);
    const security = await resolveOAuthSecurity({ clientAuth: auth, authorizationRequest: bank.authorizationRequest, senderConstraint: bank.senderConstraint, ...(bank.jws ? { jws: bank.jws } : {}) }, at, collector, reading);
    if (security.authorizationRequest.par && bank.authorizationServer.kind === 'static' && !bank.authorizationServer.pushedAuthorizationRequestEndpoint) {
      collector.add(`${at}.authorizationServer.pushedAuthorizationRequestEndpoint: required: authorization requests are pushed (PAR) and the endpoints are static`);
    }
    const consent = bank.consent ?? consentSchema.parse({});
    const psuScopes = [...new Set([...apis.values()].flatMap((api) => api.manifest.routes.filter((r) => r.tokenKind === 'psu').flatMap((r) => r.scopes)))].sort();
    banks.set(bankName, {
      name: bankName,
      displayName: bank.displayName ?? bankName,
      apis,
      authorizationServer: bank.authorizationServer,
      client: { clientId: bank.client.clientId, method: auth.method, secret, ...(security.clientKey ? { assertionKey: security.clientKey } : {}) },
      authorizationRequest: security.authorizationRequest,
      senderConstraint: security.senderConstraint,
      ...(security.jws ? { jws: security.jws } : {}),
      consent: { ...consent, scopes: consent.scopes ?? psuScopes },
      ...(bank.payments ? { payments: bank.payments } : {}),
      unattended: bank.unattended,
      mtls: bank.mtls,
      signing,
      transport: bank.transport,
      refreshSkewSeconds: bank.refreshSkewSeconds,
      headers: Object.fromEntries(Object.entries(bank.headers).map(([name, value]) => [name.toLowerCase(), value])),
      credentials: readCredentials(bankName, bank.credentials, collector),
    });
  }
  const callers = resolveCallers(parsed.data.callers, collector);
  return { publicUrl: parsed.data.publicUrl, returnToOrigins: parsed.data.returnToOrigins, devKey: callers.devKey, callers, store: parsed.data.store, validation: parsed.data.validation, banks };
}
