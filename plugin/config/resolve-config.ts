import { X509Certificate, createPrivateKey } from 'node:crypto';
import { BankgateError } from '../errors/bankgate-error.js';
import type { ApiManifest } from '../manifest/types.js';
import type { ConfigInput } from './define-config.js';
import { configSchema, type ParsedBankConfig } from './schema.js';
import { readSecretRef, type SecretRef } from './secret-ref.js';

export interface ResolvedApi {
  readonly name: string;
  readonly manifest: ApiManifest;
  /** Where this API lives at the bank: origin plus the spec server's path. */
  readonly baseUrl: URL;
}

export interface ResolvedBank {
  readonly name: string;
  readonly displayName: string;
  readonly apis: ReadonlyMap<string, ResolvedApi>;
  readonly authorizationServer: ParsedBankConfig['authorizationServer'];
  readonly client: { readonly clientId: string; readonly method: ParsedBankConfig['client']['auth']['method']; readonly secret?: string };
  readonly consent: { readonly scopes: readonly string[]; readonly openid: boolean; readonly extraParams: Readonly<Record<string, string>> };
  readonly tls: { readonly cert: string; readonly key: string; readonly ca?: string; readonly certNotAfter: Date };
  readonly signing?: { readonly keyId: string; readonly key: string };
  readonly refreshSkewSeconds: number;
}

export interface ResolvedConfig {
  readonly publicUrl?: string;
  /** Undefined when none was configured: the gateway then generates one and prints it. */
  readonly devKey?: string;
  readonly store: 'memory';
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

/**
 * Validates the config once, at start-up, and reads every referenced secret and PEM.
 * Every problem is reported together, each under its path (`banks.sg.mtls.cert: file ./x.pem not found`).
 */
export async function resolveConfig(input: ConfigInput, env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<ResolvedConfig> {
  const raw = typeof input === 'function' ? await input() : input;
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`));
  }
  const problems: string[] = [];
  const read = (ref: SecretRef, path: string): string | undefined => {
    try {
      return readSecretRef(ref, path, env);
    } catch (error) {
      problems.push((error as Error).message);
      return undefined;
    }
  };

  const banks = new Map<string, ResolvedBank>();
  for (const [bankName, bank] of Object.entries(parsed.data.banks)) {
    const at = `banks.${bankName}`;
    const apis = new Map<string, ResolvedApi>();
    for (const [apiName, api] of Object.entries(bank.apis)) {
      const base = api.baseUrl ?? api.manifest.servers[0];
      if (!base) {
        problems.push(`${at}.apis.${apiName}.baseUrl: the spec lists no server; set baseUrl`);
        continue;
      }
      const baseUrl = new URL(base);
      if (baseUrl.protocol !== 'https:') problems.push(`${at}.apis.${apiName}.baseUrl: ${base} is not https; banks are only called over TLS`);
      apis.set(apiName, { name: apiName, manifest: api.manifest, baseUrl });
    }

    const auth = bank.client.auth;
    const secret = 'secret' in auth ? read(auth.secret, `${at}.client.auth.secret`) : undefined;
    const tls = resolveTls(bank, at, read, problems, now);
    const signingKey = bank.signing ? read(bank.signing.key, `${at}.signing.key`) : undefined;
    if (signingKey !== undefined) checkPrivateKey(signingKey, `${at}.signing.key`, problems);

    const psuScopes = [...new Set([...apis.values()].flatMap((api) => api.manifest.routes.filter((r) => r.tokenKind === 'psu').flatMap((r) => r.scopes)))].sort();
    banks.set(bankName, {
      name: bankName,
      displayName: bank.displayName ?? bankName,
      apis,
      authorizationServer: bank.authorizationServer,
      client: { clientId: bank.client.clientId, method: auth.method, secret },
      consent: { scopes: bank.consent.scopes ?? psuScopes, openid: bank.consent.openid, extraParams: bank.consent.extraParams },
      tls: tls ?? { cert: '', key: '', certNotAfter: now },
      signing: bank.signing && signingKey ? { keyId: bank.signing.keyId, key: signingKey } : undefined,
      refreshSkewSeconds: bank.refreshSkewSeconds,
    });
  }

  const devKey = parsed.data.callers.devKey ? read(parsed.data.callers.devKey, 'callers.devKey') : env.BANKGATE_DEV_KEY || undefined;
  if (devKey !== undefined && devKey.length < 16) problems.push('callers.devKey: the key must be at least 16 characters');
  if (problems.length > 0) throw new ConfigError(problems);
  return { publicUrl: parsed.data.publicUrl, devKey, store: parsed.data.store, banks };
}

function resolveTls(
  bank: ParsedBankConfig,
  at: string,
  read: (ref: SecretRef, path: string) => string | undefined,
  problems: string[],
  now: Date,
): ResolvedBank['tls'] | undefined {
  const cert = read(bank.mtls.cert, `${at}.mtls.cert`);
  const key = read(bank.mtls.key, `${at}.mtls.key`);
  const ca = bank.mtls.ca ? read(bank.mtls.ca, `${at}.mtls.ca`) : undefined;
  if (cert === undefined || key === undefined) return undefined;
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    problems.push(`${at}.mtls.cert: not a PEM X.509 certificate`);
    return undefined;
  }
  const notAfter = new Date(x509.validTo);
  if (notAfter.getTime() <= now.getTime()) {
    problems.push(`${at}.mtls.cert: certificate ${x509.subject.replace(/\n/g, ', ')} expired on ${notAfter.toISOString()}; renew the QWAC`);
  }
  if (new Date(x509.validFrom).getTime() > now.getTime()) problems.push(`${at}.mtls.cert: certificate is not valid before ${new Date(x509.validFrom).toISOString()}`);
  const privateKey = checkPrivateKey(key, `${at}.mtls.key`, problems);
  if (privateKey && !x509.checkPrivateKey(privateKey)) problems.push(`${at}.mtls.key: the key does not belong to the certificate in ${at}.mtls.cert`);
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch {
      problems.push(`${at}.mtls.ca: not a PEM X.509 certificate`);
    }
  }
  return { cert, key, ca, certNotAfter: notAfter };
}

function checkPrivateKey(pem: string, path: string, problems: string[]) {
  try {
    return createPrivateKey(pem);
  } catch {
    problems.push(`${path}: not a readable unencrypted PEM private key`);
    return undefined;
  }
}
