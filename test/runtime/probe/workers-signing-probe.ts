/**
 * A Worker run INSIDE workerd by the Workers runtime suite: the gateway's own signing (the QSeal key in
 * workerd's WebCrypto) and the QWAC_SG binding (without signing), against the SG-like sandbox bank, which
 * verifies Digest and Signature. One signed payment request as signed, then the same with one body byte
 * changed after signing; answers both as JSON.
 */
import { ProblemCollector } from '../../../plugin/config/secret-ref.js';
import { createGateway } from '../../../plugin/gateway.js';
import { silentLogger } from '../../../plugin/log.js';
import { workersRuntime, type WorkersEnv } from '../../../plugin/adapter/workers/index.js';
import { createRequestSigner } from '../../../plugin/transport/request-signer.js';
import type { SandboxFile } from '../../../sandbox/sandbox-file.js';
import { sandboxConfig } from '../../../scripts/workers/sandbox-worker.js';
import { SG_PAYMENT } from '../../fixtures/sg-payment.js';

export default {
  async fetch(_request: Request, env: WorkersEnv): Promise<Response> {
    const runtime = workersRuntime(env);
    const gateway = await createGateway(sandboxConfig(env), { runtime, log: silentLogger });
    const sandbox = JSON.parse(String(env.BANKGATE_SANDBOX)) as SandboxFile;
    const sg = gateway.config.banks.get('sg')!;
    const route = sg.apis.get('pisp')!.manifest.routes.find((r) => r.operationId === 'paymentRequestsPost')!;
    const token = await gateway.engine.clientAccessToken('sg', route.scopes);
    const problems = new ProblemCollector(runtime);
    const raw = await runtime.transport({ bank: 'sg', at: 'banks.sg.mtls', mtls: sg.mtls, settings: sg.transport, labels: { bank: 'sg' } }, { metrics: gateway.metrics, log: silentLogger, problems, now: Date.now });
    if (!raw) return Response.json({ problems: problems.problems }, { status: 500 });
    const base = new URL(sandbox.banks.sg.apis.pisp!);
    const path = `${base.pathname.replace(/\/$/, '')}/payment-requests`;
    const sign = createRequestSigner('sg', sg.signing!);
    const signedPost = async (tamper: boolean) => {
      const body = new TextEncoder().encode(JSON.stringify(SG_PAYMENT));
      const headers = await sign({ method: 'POST', path, headers: { 'x-request-id': crypto.randomUUID(), 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
      if (tamper) body[body.length - 2]! ^= 0x01;
      const response = await raw.send({ method: 'POST', origin: base.origin, path, headers, body });
      return { status: response.status, body: JSON.parse(new TextDecoder().decode(response.body)) as unknown };
    };
    const result = { runtime: 'workers', asSigned: await signedPost(false), tampered: await signedPost(true) };
    await gateway.close();
    return Response.json(result);
  },
};
