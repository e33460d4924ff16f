/**
 * The Worker `npm run gateway:workers` (and the Workers runtime suite) runs in workerd: bankgate/workers in
 * front of the sandbox banks, configured like hono.config.ts but the Workers way: the QWACs are bindings
 * (QWAC_SEB, QWAC_SG: in production `mtls_certificates`, locally the service-binding stand-in with workerd
 * `tlsOptions`), the sandbox's URLs come from the var BANKGATE_SANDBOX (the JSON of .bankgate/sandbox.json),
 * and the secrets from env (SEB_CLIENT_SECRET, SG_SIGNING_KEY, BANKGATE_STORE_KEY, BANKGATE_DEV_KEY).
 */
import { documents, manifests } from '../../generated/index.js';
import type { BankgateConfig } from '../../plugin/index.js';
import { BankgateStoreObject, createWorkersHandler, type WorkersEnv } from '../../plugin/adapter/workers/index.js';
import type { SandboxFile } from '../../sandbox/sandbox-file.js';

/** The sandbox banks' config from the Worker's env (also the Workers runtime suite's probe Worker's). */
export function sandboxConfig(env: WorkersEnv): BankgateConfig {
  const sandbox = JSON.parse(String(env.BANKGATE_SANDBOX ?? 'null')) as SandboxFile | null;
  if (!sandbox) throw new Error('BANKGATE_SANDBOX is not set: the sandbox file as JSON (npm run gateway:workers sets it from .bankgate/sandbox.json)');
  const { seb, sg } = sandbox.banks;
  const publicUrl = typeof env.BANKGATE_PUBLIC_URL === 'string' ? env.BANKGATE_PUBLIC_URL : undefined;
  return {
    publicUrl,
    validation: { requests: true, responses: 'enforce' },
    store: typeof env.BANKGATE_STORE === 'string' ? env.BANKGATE_STORE : undefined,
    banks: {
      seb: {
        displayName: 'SEB (sandbox)',
        apis: {
          ais: { manifest: manifests.seb.ais, document: documents.seb.ais, baseUrl: seb.apis.ais! },
          pis: { manifest: manifests.seb.pis, document: documents.seb.pis, baseUrl: seb.apis.pis! },
        },
        authorizationServer: { kind: 'static', issuer: seb.authorizationServer.issuer, authorizationEndpoint: seb.authorizationServer.authorizationEndpoint, tokenEndpoint: seb.authorizationServer.tokenEndpoint },
        client: { clientId: seb.client.clientId, auth: { method: 'client_secret_post', secret: { env: 'SEB_CLIENT_SECRET' } } },
        mtls: { binding: 'QWAC_SEB', certificate: { env: 'QWAC_SEB_CERTIFICATE' } },
        headers: { 'TPP-Redirect-URI': `${publicUrl ?? 'http://127.0.0.1:8787'}/sca/seb/done` },
      },
      sg: {
        displayName: 'Société Générale (sandbox)',
        apis: {
          aisp: { manifest: manifests.sg.aisp, document: documents.sg.aisp, baseUrl: sg.apis.aisp! },
          pisp: { manifest: manifests.sg.pisp, document: documents.sg.pisp, baseUrl: sg.apis.pisp! },
          cbpii: { manifest: manifests.sg.cbpii, document: documents.sg.cbpii, baseUrl: sg.apis.cbpii! },
        },
        authorizationServer: { kind: 'discovery', issuer: sg.authorizationServer.issuer, useMtlsEndpointAliases: true },
        client: { clientId: sg.client.clientId, auth: { method: 'tls_client_auth' } },
        consent: { openid: true, extraParams: { acr_values: 'L1' } },
        mtls: { binding: 'QWAC_SG', certificate: { env: 'QWAC_SG_CERTIFICATE' } },
        ...(sg.signing ? { signing: { keyId: sg.signing.keyId, key: { env: 'SG_SIGNING_KEY' } } } : {}),
      },
    },
  };
}

export default createWorkersHandler(sandboxConfig);
export { BankgateStoreObject };
