/**
 * The gateway's side of the UK-OB-like sandbox bank, built the way the gateway builds it: `hono.config.ts`-shaped bank
 * config → `resolveConfig` (keys imported, profile applied) → the Node runtime's transport (real mTLS) →
 * `createBankOAuth`. Tests drive the gateway's own FAPI code with it; intents and resource calls go through the
 * sandbox tests' independent TPP code (`test/sandbox/ukob-helpers.ts`).
 */
import { nodeRuntime } from '../../plugin/adapter/node/index.js';
import { resolveConfig } from '../../plugin/config/resolve-config.js';
import type { BankgateConfig } from '../../plugin/config/schema.js';
import { silentLogger } from '../../plugin/log.js';
import { MetricsRegistry } from '../../plugin/observability/metrics.js';
import { ProblemCollector } from '../../plugin/config/secret-ref.js';
import { createBankOAuth, type BankOAuth } from '../../plugin/tokens/authorization-server.js';
import { createBankTransport } from '../../plugin/transport/bank-transport.js';
import type { BankTransport } from '../../plugin/transport/types.js';
import { manifests } from '../../generated/index.js';
import type { SandboxFile } from '../../sandbox/sandbox-file.js';

export type BankConfig = BankgateConfig['banks'][string];

export const GATEWAY_REDIRECT = 'http://127.0.0.1:4570/callback/ukob';

/** The gateway's config of the sandbox's `ukob` bank, as hono.config.ts writes it, for one FAPI profile. */
export function ukobBankConfig(file: SandboxFile, options: { clientAuth?: 'private_key_jwt' | 'tls_client_auth'; authorizationRequest?: BankConfig['authorizationRequest'] } = {}): BankConfig {
  const bank = file.banks.ukob;
  const ca = { file: file.caFile };
  const clientAuth = options.clientAuth ?? 'private_key_jwt';
  return {
    displayName: 'UK Open Banking (sandbox)',
    apis: {
      aisp: { manifest: manifests.ukob.aisp, baseUrl: bank.apis.aisp },
      pisp: { manifest: manifests.ukob.pisp, baseUrl: bank.apis.pisp },
      cbpii: { manifest: manifests.ukob.cbpii, baseUrl: bank.apis.cbpii },
      vrp: { manifest: manifests.ukob.vrp, baseUrl: bank.apis.vrp },
    },
    authorizationServer: { kind: 'discovery', issuer: bank.authorizationServer.issuer, useMtlsEndpointAliases: true },
    client:
      clientAuth === 'private_key_jwt'
        ? { clientId: bank.client.clientId, auth: { method: 'private_key_jwt', keyId: bank.signing.keyId, key: { file: bank.signing.keyFile }, algorithm: 'PS256' } }
        : { clientId: bank.mtlsClient.clientId, auth: { method: 'tls_client_auth' } },
    authorizationRequest: options.authorizationRequest ?? (bank.fapiProfile === '2.0' ? { profile: 'fapi2' } : { profile: 'fapi1-advanced' }),
    mtls: { cert: { file: bank.mtls.certFile }, key: { file: bank.mtls.keyFile }, ca },
  };
}

export interface GatewayBankSide {
  readonly oauth: BankOAuth;
  readonly transport: BankTransport;
  close(): Promise<void>;
}

/** Resolves one bank's config and builds its OAuth side over the Node runtime's transport. */
export async function gatewayBankSide(config: BankConfig, name = 'ukob'): Promise<GatewayBankSide> {
  const runtime = nodeRuntime({ env: { ...process.env, BANKGATE_DEV_KEY: 'fapi-test-dev-key-0123456789' } });
  const resolved = await resolveConfig({ banks: { [name]: config } }, runtime);
  const bank = resolved.banks.get(name)!;
  const problems = new ProblemCollector(runtime);
  const transport = await createBankTransport(bank, runtime, { metrics: new MetricsRegistry(), log: silentLogger, problems, now: Date.now });
  if (!transport) throw new Error(`transport: ${problems.problems.join('; ')}`);
  return { oauth: createBankOAuth(bank, transport), transport, close: () => transport.close() };
}
