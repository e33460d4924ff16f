/**
 * The gateway's config. This one puts bankgate in front of the built-in sandbox banks, reading every URL
 * and file from `.bankgate/sandbox.json` (written by `npm run sandbox` / `npm start`). For real banks,
 * replace the values with the bank's hosts and references to your own secrets and certificates
 * (`{ env: 'SEB_CLIENT_SECRET' }`, `{ file: '/etc/bankgate/qwac.pem' }`): see the README.
 */
import { manifests } from './generated/index.js';
import { defineConfig } from './plugin/index.js';
import { readSandboxFile } from './sandbox/sandbox-file.js';

export default defineConfig(() => {
  const sandbox = readSandboxFile();
  const { seb, sg } = sandbox.banks;
  const ca = { file: sandbox.caFile };
  return {
    publicUrl: process.env.BANKGATE_PUBLIC_URL,
    store: (process.env.BANKGATE_STORE ?? 'memory') as 'memory',
    banks: {
      seb: {
        displayName: 'SEB (sandbox)',
        apis: {
          ais: { manifest: manifests.seb.ais, baseUrl: seb.apis.ais },
          pis: { manifest: manifests.seb.pis, baseUrl: seb.apis.pis },
        },
        // SEB publishes no discovery document: static endpoints, client_secret_post.
        authorizationServer: {
          kind: 'static',
          issuer: seb.authorizationServer.issuer,
          authorizationEndpoint: seb.authorizationServer.authorizationEndpoint,
          tokenEndpoint: seb.authorizationServer.tokenEndpoint,
        },
        // The sandbox generates this secret at start; production config uses { env: '…' } or { file: '…' }.
        client: { clientId: seb.client.clientId, auth: { method: 'client_secret_post', secret: { value: seb.client.clientSecret ?? '' } } },
        mtls: { cert: { file: seb.mtls.certFile }, key: { file: seb.mtls.keyFile }, ca },
      },
      sg: {
        displayName: 'Société Générale (sandbox)',
        apis: {
          aisp: { manifest: manifests.sg.aisp, baseUrl: sg.apis.aisp },
          pisp: { manifest: manifests.sg.pisp, baseUrl: sg.apis.pisp },
          cbpii: { manifest: manifests.sg.cbpii, baseUrl: sg.apis.cbpii },
        },
        // OIDC discovery; the token endpoint is on a separate mTLS host (mtls_endpoint_aliases).
        authorizationServer: { kind: 'discovery', issuer: sg.authorizationServer.issuer, useMtlsEndpointAliases: true },
        client: { clientId: sg.client.clientId, auth: { method: 'tls_client_auth' } },
        consent: { openid: true, extraParams: { acr_values: 'L1' } },
        mtls: { cert: { file: sg.mtls.certFile }, key: { file: sg.mtls.keyFile }, ca },
        ...(sg.signing ? { signing: { keyId: sg.signing.keyId, key: { file: sg.signing.keyFile } } } : {}),
      },
    },
  };
});
