/**
 * Runs INSIDE the runtime under test (`deno run --sloppy-imports`, `bun`): the gateway's own signing (the
 * QSeal key in the runtime's WebCrypto) and the runtime's mTLS transport, against the SG-like sandbox bank,
 * which verifies Digest and Signature. One signed payment request as signed, then the same request with one
 * body byte changed after signing. Prints `probe <json>` with both answers. Env: BANKGATE_SANDBOX_FILE,
 * BANKGATE_DEV_KEY; argv: the runtime (`deno` | `bun`).
 */
import config from '../../../hono.config.js';
import { ProblemCollector } from '../../../plugin/config/secret-ref.js';
import type { Gateway, GatewayOptions } from '../../../plugin/gateway.js';
import { silentLogger } from '../../../plugin/log.js';
import type { Runtime } from '../../../plugin/runtime.js';
import { createRequestSigner } from '../../../plugin/transport/request-signer.js';
import { readSandboxFile } from '../../../sandbox/sandbox-file.js';
import { SG_PAYMENT } from '../../fixtures/sg-payment.js';

const runtimeName = (globalThis as { Deno?: unknown }).Deno ? 'deno' : 'bun';
const adapter = (runtimeName === 'deno' ? await import('../../../plugin/adapter/deno/index.js') : await import('../../../plugin/adapter/bun/index.js')) as {
  createGateway(input: typeof config, options?: GatewayOptions): Promise<Gateway>;
};
const runtime: Runtime = runtimeName === 'deno' ? (await import('../../../plugin/adapter/deno/index.js')).denoRuntime() : (await import('../../../plugin/adapter/bun/index.js')).bunRuntime();

const gateway = await adapter.createGateway(config, { runtime, log: silentLogger });
const sandbox = readSandboxFile();
const sg = gateway.config.banks.get('sg')!;
const route = sg.apis.get('pisp')!.manifest.routes.find((r) => r.operationId === 'paymentRequestsPost')!;
const token = await gateway.engine.clientAccessToken('sg', route.scopes);
// The runtime's transport for SG's QWAC, without signing: the probe signs, then tampers.
const problems = new ProblemCollector(runtime);
const raw = await runtime.transport({ bank: 'sg', at: 'banks.sg.mtls', mtls: sg.mtls, settings: sg.transport, labels: { bank: 'sg' } }, { metrics: gateway.metrics, log: silentLogger, problems, now: Date.now });
if (!raw) throw new Error(`probe: no transport: ${problems.problems.join('; ')}`);
const base = new URL(sandbox.banks.sg.apis.pisp!);
const path = `${base.pathname.replace(/\/$/, '')}/payment-requests`;
const sign = createRequestSigner('sg', sg.signing!);

async function signedPost(tamper: boolean): Promise<{ status: number; body: unknown }> {
  const body = new TextEncoder().encode(JSON.stringify(SG_PAYMENT));
  const headers = await sign({ method: 'POST', path, headers: { 'x-request-id': crypto.randomUUID(), 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
  if (tamper) body[body.length - 2]! ^= 0x01;
  const response = await raw!.send({ method: 'POST', origin: base.origin, path, headers, body });
  return { status: response.status, body: JSON.parse(new TextDecoder().decode(response.body)) };
}

const result = { runtime: runtimeName, asSigned: await signedPost(false), tampered: await signedPost(true) };
console.log(`probe ${JSON.stringify(result)}`);
await raw.close();
await gateway.close();
