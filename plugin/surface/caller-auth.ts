import { createMiddleware } from 'hono/factory';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { timingSafeEqual } from '../crypto/constant-time.js';
import { sha256 } from '../crypto/digest.js';
import { BankgateError } from '../errors/bankgate-error.js';
import type { ResolvedCallers } from './resolve-callers.js';

/** Who is calling the gateway: an internal service. Connections belong to it. */
export interface Caller {
  /** The display name (logs, problem details): a static key's name, the JWT's caller claim, a host app's id. */
  readonly id: string;
  /**
   * Who the caller is AND how it authenticated: the namespace of everything it owns (its connections).
   * `key:<name>` for a static key (the dev key is `key:dev`), `jwt:<issuer>#<sub>` for a JWT,
   * `host:<id>` for a caller a host app authenticated. Two callers with the same `id` but another `key`
   * share nothing.
   */
  readonly key: string;
  readonly via: 'key' | 'jwt' | 'host';
  /** Permissions, see permissions.ts. */
  readonly allow: readonly string[];
}

/** The `Caller.key` of a static key's caller. */
export const staticCallerKey = (name: string) => `key:${name}`;
/** The `Caller.key` of a JWT caller: the issuer and the caller claim, never one without the other. */
export const jwtCallerKey = (issuer: string, sub: string) => `jwt:${issuer}#${sub}`;

export interface CallerAuthVariables {
  caller: Caller;
}

export interface CallerAuthOptions {
  readonly callers: ResolvedCallers;
  /** The effective dev key (configured or generated), for the caller `dev` with every permission. */
  readonly devKey?: string;
  /** Overrides the JWKS lookup (tests, or a JWKS already in memory). */
  readonly jwks?: JWTVerifyGetKey;
}

interface KeyEntry {
  readonly digest: Uint8Array;
  readonly caller: Caller;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Authenticates one `Authorization` header value; throws a 401 `BankgateError`. */
export type Authenticate = (authorization: string | undefined) => Caller | Promise<Caller>;

/** How many accepted static keys are remembered (credential → caller), so that a known key costs no hash. */
const KEY_CACHE_SIZE = 256;

/**
 * Internal caller authentication, `Authorization: Bearer <credential>`: a JWT verified against the
 * issuer's JWKS (RFC 7519: issuer, audience, expiry, algorithm allow-list; `alg: none` never), or a static
 * key: its SHA-256 compared in constant time with each configured key's. A key accepted once is remembered,
 * so a known key answers synchronously, with no hashing (WebCrypto's digest is asynchronous); only a miss
 * pays the hash. The header authenticates the caller only; it never reaches a bank.
 * Framing-free: the Hono middleware below and the Node fast path (`bankgate/node`) both call it.
 */
export function createCallerAuthenticator(options: CallerAuthOptions): Authenticate {
  const configured: Array<{ key: string; caller: Caller }> = options.callers.keys.map((k) => ({ key: k.key, caller: { id: k.id, key: staticCallerKey(k.id), via: 'key', allow: k.allow } }));
  if (options.devKey !== undefined) {
    if (options.devKey.length < 16) throw new Error('callerAuth: devKey must be at least 16 characters');
    configured.push({ key: options.devKey, caller: { id: 'dev', key: staticCallerKey('dev'), via: 'key', allow: ['*'] } });
  }
  // Hashed once, awaited by the first credential that is not in the cache.
  const keys: Promise<KeyEntry[]> = Promise.all(configured.map(async ({ key, caller }) => ({ digest: await sha256(key), caller })));
  const jwt = options.callers.jwt;
  const jwks = jwt ? (options.jwks ?? createRemoteJWKSet(new URL(jwt.jwksUrl), { cooldownDuration: 30_000, cacheMaxAge: 600_000 })) : undefined;
  if (configured.length === 0 && !jwt) throw new Error('callerAuth: configure callers.keys, callers.jwt or a dev key');
  // Accepted static keys only (a miss never enters), bounded: an attacker's guesses cannot grow it. The cache
  // holds what the config holds anyway; a hit says only that this exact string is a valid key.
  const accepted = new Map<string, Caller>();
  const allowByCaller = new Map<string, readonly string[]>(jwt ? Object.entries(jwt.allow) : []);

  return function authenticate(header) {
    // A credential never holds a comma (RFC 6750 b64token): one here is two Authorization headers joined.
    if (header?.includes(',')) throw repeatedAuthorization();
    const match = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!match) throw unauthorized('send the internal credential as "Authorization: Bearer <credential>"', 'missing');
    const credential = match[1]!;
    const known = accepted.get(credential);
    if (known) return known;

    if (jwt && jwks && JWT_SHAPE.test(credential)) return verifyJwt(credential, jwt, jwks, allowByCaller);
    return checkKey(credential);
  };

  async function checkKey(credential: string): Promise<Caller> {
    const [entries, digest] = await Promise.all([keys, sha256(credential)]);
    let found: Caller | undefined;
    for (const entry of entries) if (timingSafeEqual(digest, entry.digest)) found = entry.caller; // no early exit: same time for every key
    if (!found) throw unauthorized('the internal credential is not valid', 'invalid_key');
    if (accepted.size >= KEY_CACHE_SIZE) accepted.clear();
    accepted.set(credential, found);
    return found;
  }
}

/**
 * Two `Authorization` headers (or one holding two credentials) are refused by every framing: which one
 * would count is a guess, and guesses differ between proxies.
 */
export function repeatedAuthorization(): BankgateError {
  return unauthorized('send exactly one "Authorization: Bearer <credential>" header', 'repeated');
}

/** The Hono middleware: sets `c.var.caller`. */
export function callerAuth(options: CallerAuthOptions) {
  const authenticate = createCallerAuthenticator(options);
  return createMiddleware<{ Variables: CallerAuthVariables }>(async function bankgateCallerAuth(c, next) {
    c.set('caller', await authenticate(c.req.header('authorization')));
    return next();
  });
}

async function verifyJwt(token: string, jwt: NonNullable<ResolvedCallers['jwt']>, jwks: JWTVerifyGetKey, allowByCaller: ReadonlyMap<string, readonly string[]>): Promise<Caller> {
  try {
    const { payload } = await jwtVerify(token, jwks, {
      issuer: jwt.issuer,
      audience: jwt.audience,
      algorithms: jwt.algorithms,
      clockTolerance: jwt.clockToleranceSeconds,
      requiredClaims: ['exp', jwt.callerClaim],
    });
    const id = payload[jwt.callerClaim];
    // A lone surrogate would make two different claims one key once encoded: refused, like an empty claim.
    if (typeof id !== 'string' || id.length === 0 || id.length > 128 || /\p{Cs}/u.test(id)) throw unauthorized(`the token's ${jwt.callerClaim} claim does not name a caller`, 'jwt_caller_claim');
    // A Map: `__proto__`, `constructor` or `toString` are ordinary caller names, never Object.prototype members.
    return { id, key: jwtCallerKey(jwt.issuer, id), via: 'jwt', allow: allowByCaller.get(id) ?? jwt.defaultAllow };
  } catch (error) {
    if (error instanceof BankgateError) throw error;
    throw unauthorized(`the token was rejected: ${jwtReason(error)}`, (error as { code?: string }).code ?? 'jwt_invalid');
  }
}

/** Why a token failed, in words that name the check and never echo the token. */
function jwtReason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'it has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim ${error.claim} is not valid (${error.reason})`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not allowed';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the issuer matches it';
  if (error instanceof joseErrors.JWKSTimeout || !(error instanceof joseErrors.JOSEError)) return 'the issuer keys could not be fetched';
  return (error as { code?: string }).code ?? 'it is not a valid JWT';
}

function unauthorized(detail: string, reason: string): BankgateError {
  return new BankgateError('unauthorized', { status: 401, detail, extra: { reason } });
}
