/** The UK-OB-like bank's entry in `.bankgate/sandbox.json` (`banks.ukob`); see sandbox/ukob/README.md. */
import type { SandboxPemPair } from '../sandbox-file.js';

export interface UkobSandboxBank {
  /** `'2.0'` (FAPI 2.0 Security Profile, the default) or `'1.0'` (FAPI 1.0 Advanced), chosen at start. */
  readonly fapiProfile: '2.0' | '1.0';
  /** The bank's control routes (`GET` it for the list): an intent's state, expiring an intent now. */
  readonly controlUrl?: string;
  readonly authorizationServer: {
    readonly issuer: string;
    readonly discoveryUrl: string;
    readonly authorizationEndpoint: string;
    /** Token, PAR, revocation and userinfo endpoints on the front host: they work, but tokens come out unbound without a client certificate. Use the mTLS ones. */
    readonly tokenEndpoint: string;
    readonly parEndpoint: string;
    /** `mtls_endpoint_aliases` (RFC 8705 §5): where the TPP calls with its transport certificate. */
    readonly mtlsTokenEndpoint: string;
    readonly mtlsParEndpoint: string;
    readonly revocationEndpoint: string;
    readonly jwksUri: string;
  };
  /** The registration for `private_key_jwt` (PS256, `signing` key), certificate-bound tokens. */
  readonly client: {
    readonly clientId: string;
    readonly authMethod: 'private_key_jwt';
    readonly signingAlg: 'PS256';
    /** None: FAPI clients authenticate with keys (declared so that code reading every bank's `client` type-checks). */
    readonly clientSecret?: undefined;
  };
  /** The same TPP registered for `tls_client_auth` (subject DN of `mtls`). */
  readonly mtlsClient: { readonly clientId: string; readonly authMethod: 'tls_client_auth' };
  /** API name (`aisp`, `pisp`, `cbpii`, `vrp`) → base URL on the resource server. */
  readonly apis: Readonly<Record<string, string>>;
  /** The TPP's transport certificate (OBWAC/QWAC-like): mTLS to the token endpoint and the APIs. */
  readonly mtls: SandboxPemPair;
  /** The TPP's signing key (OBSeal-like, RSA): client assertions, request objects, `x-jws-signature`. */
  readonly signing: SandboxPemPair & {
    readonly keyId: string;
    readonly alg: 'PS256';
    /** The public JWKS the bank registered for the clients. */
    readonly jwksFile: string;
    /** `http://openbanking.org.uk/iss` of the TPP's `x-jws-signature`: `<orgId>/<softwareId>`. */
    readonly jwsIssuer: string;
    /** `http://openbanking.org.uk/tan`. */
    readonly trustAnchor: string;
  };
  /** How the bank signs its payment answers (`x-jws-signature`): its keys, its `…/iss`, the trust anchor. */
  readonly bankSigning: { readonly jwksUrl: string; readonly keyId: string; readonly issuer: string; readonly trustAnchor: string };
  readonly psuIds: readonly string[];
}
