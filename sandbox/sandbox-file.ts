/**
 * `.bankgate/sandbox.json`: every URL and file the running sandbox serves, written by `npm run sandbox`
 * (or `startSandbox()`) and read by the default `hono.config.ts`. Paths are absolute.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { UkobSandboxBank } from './ukob/sandbox-entry.js';
import type { SandboxBgBank } from './bg/index.js';

export interface SandboxPemPair {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface SandboxBank {
  /** Authorization server. SEB-like: static endpoints; SG-like: OIDC discovery. */
  readonly authorizationServer: {
    readonly issuer: string;
    /** Set for banks that publish discovery (SG-like). */
    readonly discoveryUrl?: string;
    readonly authorizationEndpoint: string;
    readonly tokenEndpoint: string;
    /** The token endpoint on the separate mTLS host (SG-like `mtls_endpoint_aliases.token_endpoint`). */
    readonly mtlsTokenEndpoint?: string;
    readonly revocationEndpoint?: string;
  };
  /** The client the sandbox registered for bankgate. */
  readonly client: {
    readonly clientId: string;
    /** Present for `client_secret_post` banks (SEB-like). */
    readonly clientSecret?: string;
    readonly authMethod: 'client_secret_post' | 'tls_client_auth';
  };
  /** API name → base URL of that API on the sandbox resource server (spec server path included). */
  readonly apis: Readonly<Record<string, string>>;
  /** The QWAC-like client certificate the gateway presents to this bank. */
  readonly mtls: SandboxPemPair;
  /** A second certificate of the same subject from the same CA: for certificate rotation tests. */
  readonly nextMtls?: SandboxPemPair;
  /** QSeal-like signing key and certificate, for banks that verify `Signature` (SG-like). */
  readonly signing?: SandboxPemPair & { readonly keyId: string };
  /** Sandbox PSU identities that can consent without a browser (like SEB's sandbox identity numbers). */
  readonly psuIds: readonly string[];
  /** This bank's own control routes (the PSU's app: `POST <controlUrl>/authorisations/<id>/approve`), if it has any. */
  readonly controlUrl?: string;
}

export interface SandboxFile {
  readonly version: 1;
  /** PEM of the sandbox CA that signed every sandbox server certificate and the good client certificates. */
  readonly caFile: string;
  /** Plain-HTTP control plane on 127.0.0.1: `GET /__sandbox/stats`, `POST /__sandbox/reset`. */
  readonly controlUrl: string;
  readonly statsUrl: string;
  readonly resetUrl: string;
  readonly banks: { readonly seb: SandboxBank; readonly sg: SandboxBank; readonly ukob: UkobSandboxBank; readonly bg: SandboxBgBank };
  /** A client certificate from a CA no sandbox bank trusts: for tests of a wrong certificate. */
  readonly untrustedClientCert: SandboxPemPair;
}

export const DEFAULT_SANDBOX_FILE = '.bankgate/sandbox.json';

/** Reads and sanity-checks the sandbox file; the error says how to get one. */
export function readSandboxFile(path = process.env.BANKGATE_SANDBOX_FILE ?? DEFAULT_SANDBOX_FILE): SandboxFile {
  const full = resolve(path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch {
    throw new Error(`${full} not found: start the sandbox banks first (npm run sandbox, or npm start for both)`);
  }
  const parsed = JSON.parse(text) as SandboxFile;
  if (parsed.version !== 1 || !parsed.banks?.seb || !parsed.banks?.sg || !parsed.banks?.bg) {
    throw new Error(`${full} is not a bankgate sandbox file (version 1 with banks seb, sg and bg): restart the sandbox`);
  }
  return parsed;
}
