/**
 * The route manifest: what `scripts/generate` writes to `generated/<bank>/<api>/routes.ts` for each bank API,
 * and all the gateway needs to mount, check and forward that API's operations. Plain data, no functions,
 * so that it can be diffed, serialised and compared between generations.
 */

/** Which token an operation needs, read from the OAuth2 flow of its security requirement. */
export type TokenKind =
  /** A PSU's token from the authorization-code redirect: the caller must send `X-Connection-Id`. */
  | 'psu'
  /** A client-credentials token of the TPP itself, cached per bank and scope. */
  | 'client'
  /** No token (the operation declares no security, or only an empty requirement). */
  | 'none';

/**
 * A credential an operation's security requirement needs besides its token, supplied per bank from config by
 * reference (`banks.<bank>.credentials.<scheme>`), never from callers, and sent only on the operations that need it.
 */
export type CredentialManifest =
  /** An OpenAPI `apiKey` scheme: the key goes in this header, query parameter or cookie. */
  | { readonly scheme: string; readonly type: 'apiKey'; readonly in: 'header' | 'query' | 'cookie'; readonly name: string }
  /** An `http` `basic` scheme: `Authorization: Basic …` from a configured user name and password. */
  | { readonly scheme: string; readonly type: 'basic' };

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch' | 'head' | 'options';

export interface ParamManifest {
  /** The name exactly as the spec spells it (`account-id`, `X-Request-ID`). */
  readonly name: string;
  readonly required: boolean;
  /** JSON schema `type` of the parameter when the spec gives one (`string`, `integer`, …). */
  readonly type?: string;
  /** Enum values for enum parameters, kept for routing and validation. */
  readonly enum?: readonly string[];
}

export interface RouteManifest {
  /** operationId from the spec, or a stable name derived from method and path when it has none. */
  readonly operationId: string;
  /** True when the operationId was derived, not declared by the bank. */
  readonly operationIdDerived?: boolean;
  readonly method: HttpMethod;
  /** Path template relative to the API's server URL, as in the spec: `/accounts/{account-id}/balances`. */
  readonly path: string;
  readonly summary?: string;
  readonly params: {
    readonly path: readonly ParamManifest[];
    readonly query: readonly ParamManifest[];
    /** Header parameters, `Authorization` excluded (the gateway owns it). */
    readonly header: readonly ParamManifest[];
  };
  /** The request body's media types, empty when the operation takes no body. */
  readonly requestBody?: { readonly required: boolean; readonly contentTypes: readonly string[] };
  /** Scopes of the security requirement the gateway satisfies (the first one it can). */
  readonly scopes: readonly string[];
  readonly tokenKind: TokenKind;
  /**
   * Name of the token's security scheme, when there is one. A credential configured under this name
   * (`banks.<bank>.credentials.<scheme>: { bearer: … }`) replaces the OAuth token: a static bearer (a personal access
   * token), for `http` bearer schemes that are not OAuth.
   */
  readonly securityScheme?: string;
  /**
   * Credentials the chosen security requirement needs besides the token (API keys, HTTP Basic), in spec order. Their
   * headers, query parameters and cookies are the gateway's: callers cannot set them.
   */
  readonly credentials?: readonly CredentialManifest[];
  /**
   * The operation declares an `Authorization` header parameter but no security scheme: which token it takes comes from
   * config (`apis.<api>.authorization`, or the bank's) or an overlay (`x-bankgate-token`), never a guess.
   */
  readonly authorizationUndeclared?: true;
  /**
   * What the gateway cannot check against the spec for this operation, with the reason (a body only as XML, a schema
   * the validator cannot compile, with its pointer). Such calls are forwarded, counted in
   * `bankgate_requests_unvalidated_total`, never passed unvalidated in silence.
   */
  readonly unvalidated?: string;
  /**
   * What bankgate cannot type or check for this operation, with the reason (e.g. a request body only as
   * `application/xml`). The route is still mounted and forwards the bytes as sent; the generator also warns.
   */
  readonly unsupported?: string;
}

export interface ApiManifest {
  readonly bank: string;
  readonly api: string;
  readonly title: string;
  readonly version: string;
  /** Server URLs the spec lists (after Swagger 2.0 conversion), in spec order. */
  readonly servers: readonly string[];
  /** SHA-256 of the normalised OpenAPI document the manifest was generated from. */
  readonly specSha256: string;
  /** Why `generated/<bank>/<api>/client/` (the typescript-fetch SDK) was not written, when it was not. */
  readonly sdkWithheld?: string;
  readonly routes: readonly RouteManifest[];
}

/** What a schema validator reports of one violation (a subset of Ajv's `ErrorObject`). */
export interface SchemaError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message?: string;
}

/** A compiled schema: true when `data` is valid, else false with `errors` set. */
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: readonly SchemaError[] | null;
}

/**
 * `generated/<bank>/<api>/validators.js`: Ajv's standalone code for every schema the gateway validates this API's
 * calls and answers with, compiled at generate time for runtimes that cannot compile code (Cloudflare Workers).
 * Passed as `apis.<api>.validators` beside the manifest it was generated with (same `specSha256`).
 */
export interface PrecompiledValidatorModule {
  /** The manifest's `specSha256`: the normalised document these validators were compiled from. */
  readonly specSha256: string;
  /** By `schemaKey(kind, schema)` (plugin/surface/validation/spec-validator.ts). */
  readonly validators: Readonly<Record<string, SchemaValidator>>;
}
