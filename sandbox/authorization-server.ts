/**
 * What both sandbox authorization servers share: an oidc-provider configuration base (per-bank memory storage,
 * fresh keys, loopback redirect URIs, headless interactions, sandbox PSUs as accounts), the token-endpoint stats,
 * and the Node request handler that puts the interaction routes in front of the provider.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { type Configuration, type JWK } from 'oidc-provider';
import type { SandboxPsu } from './data.js';
import { createInteractionHandler, type InteractionOptions } from './interactions.js';
import { createMemoryAdapter } from './memory-adapter.js';
import type { BankName, SandboxStats } from './stats.js';

/** How long a refresh token lives: long, like the banks' 90-day consents; the tests exercise access-token expiry. */
export const REFRESH_TOKEN_TTL_SECONDS = 90 * 24 * 60 * 60;

/**
 * Loopback redirect URIs for a bank: `http://127.0.0.1/callback/<bank>` and `http://localhost/callback/<bank>`,
 * which oidc-provider matches on any port for `native` clients (RFC 8252 §7.3); the gateway's port is not known
 * when the sandbox starts. Plus every URI in `SANDBOX_REDIRECT_URIS` (comma-separated), matched exactly.
 */
export function sandboxRedirectUris(bank: BankName, env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env.SANDBOX_REDIRECT_URIS ?? '')
    .split(',')
    .map((uri) => uri.trim())
    .filter(Boolean);
  return [`http://127.0.0.1/callback/${bank}`, `http://localhost/callback/${bank}`, ...extra];
}

function signingKey(): JWK {
  // ES256: generated in a millisecond, where an RSA key would cost the start-up budget.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'ES256' };
}

export interface BaseConfigurationOptions {
  readonly psus: readonly SandboxPsu[];
  readonly accessTtlSeconds: number;
}

/** The configuration every sandbox bank starts from; the bank's file adds its routes, client and features. */
export function baseConfiguration({ psus, accessTtlSeconds }: BaseConfigurationOptions): Configuration {
  return {
    adapter: createMemoryAdapter(),
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    async findAccount(_ctx, sub) {
      const psu = psus.find((candidate) => candidate.id === sub);
      if (!psu) return undefined;
      return { accountId: psu.id, claims: () => ({ sub: psu.id }) };
    },
    claims: { openid: ['sub'], acr: null },
    // Authorization code only, as PSD2 banks do: no implicit or hybrid responses.
    responseTypes: ['code'],
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      // A bank that never answers on its userinfo endpoint is the norm in PSD2; keep the surface small.
      userinfo: { enabled: false },
    },
    // PSD2 consents are not tied to a browser session: tokens live their own TTL, refresh tokens without
    // `offline_access` (neither bank uses that scope).
    expiresWithSession: async () => false,
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.kind === 'AuthorizationCode',
    ttl: {
      AccessToken: accessTtlSeconds,
      ClientCredentials: accessTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: REFRESH_TOKEN_TTL_SECONDS,
      Interaction: 600,
      Session: 3600,
      Grant: REFRESH_TOKEN_TTL_SECONDS,
    },
    async renderError(ctx, out) {
      ctx.type = 'application/json';
      ctx.body = out;
    },
  };
}

/**
 * oidc-provider validates static clients lazily, on the first request; load the client now so that a bad
 * `SANDBOX_REDIRECT_URIS` fails the start with its reason instead of the first authorization request.
 */
export async function assertClientLoads(provider: Provider, clientId: string, bank: BankName): Promise<void> {
  try {
    if (await provider.Client.find(clientId)) return;
    throw new Error('client not found');
  } catch (error) {
    const detail = (error as { error_description?: string }).error_description ?? (error as Error).message;
    throw new Error(`sandbox ${bank}: the registered client is invalid: ${detail} (check SANDBOX_REDIRECT_URIS)`, { cause: error });
  }
}

/** Counts every token-endpoint request by grant type, and failures by OAuth error, in the sandbox stats. */
export function countTokenRequests(provider: Provider, bank: BankName, stats: SandboxStats): void {
  provider.on('grant.success', (ctx) => {
    stats.tokenRequest(bank, String(ctx.oidc.params?.grant_type ?? ''));
  });
  provider.on('grant.error', (ctx, error: { error?: string }) => {
    stats.tokenRequest(bank, String(ctx.oidc?.params?.grant_type ?? ''), error.error ?? 'server_error');
  });
}

/** The Node handler of an authorization server host: interactions first, everything else to oidc-provider. */
export function authorizationServerHandler(provider: Provider, interactions: InteractionOptions) {
  const handleInteraction = createInteractionHandler(provider, interactions);
  const callback = provider.callback();
  return function handleAuthorizationServerRequest(req: IncomingMessage, res: ServerResponse): void {
    handleInteraction(req, res)
      .then((handled) => {
        if (!handled) return callback(req, res);
      })
      .catch((error: unknown) => {
        if (!res.headersSent) res.statusCode = 500;
        res.end(error instanceof Error ? error.message : String(error));
      });
  };
}
