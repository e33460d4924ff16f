/**
 * The gateway's config. This one puts bankgate in front of the built-in sandbox banks, reading every URL
 * and file from `.bankgate/sandbox.json` (written by `npm run sandbox` / `npm start`). For real banks,
 * replace the values with the bank's hosts and references to your own secrets and certificates
 * (`{ env: 'SEB_CLIENT_SECRET' }`, `{ file: '/etc/bankgate/qwac.pem' }`): see the README.
 */
import { documents, manifests } from './generated/index.js';
import { defineConfig } from './plugin/index.js';
import { readSandboxFile } from './sandbox/sandbox-file.js';

export default defineConfig(() => {
  const sandbox = readSandboxFile();
  const { seb, sg, bg, ukob } = sandbox.banks;
  const ca = { file: sandbox.caFile };
  return {
    publicUrl: process.env.BANKGATE_PUBLIC_URL,
    // The sandbox checks the banks' answers against their specs too; production leaves `responses` off.
    validation: { requests: true, responses: 'enforce' },
    // memory | file:<dir> | redis://host:port/db; unset: file:./.bankgate/tokens, encrypted at rest (README: Token store).
    store: process.env.BANKGATE_STORE,
    banks: {
      seb: {
        displayName: 'SEB (sandbox)',
        apis: {
          ais: { manifest: manifests.seb.ais, document: documents.seb.ais, baseUrl: seb.apis.ais },
          pis: { manifest: manifests.seb.pis, document: documents.seb.pis, baseUrl: seb.apis.pis },
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
        // Where the bank sends the PSU after a payment's SCA: the TPP's (the gateway's) address, never a caller's.
        headers: { 'TPP-Redirect-URI': `${process.env.BANKGATE_PUBLIC_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`}/sca/seb/done` },
        // Payments signed through …/authorisations (Mobile BankID, decoupled), under the PSU's token; SEB spells `finalized`.
        payments: { protocol: 'berlin-group', connectionToken: true, scaMethods: { decoupled: 'mobiltbankid', redirect: 'mobiltbankid' }, statusNames: { finalized: 'finalised' } },
      },
      sg: {
        displayName: 'Société Générale (sandbox)',
        apis: {
          aisp: { manifest: manifests.sg.aisp, document: documents.sg.aisp, baseUrl: sg.apis.aisp },
          pisp: { manifest: manifests.sg.pisp, document: documents.sg.pisp, baseUrl: sg.apis.pisp },
          cbpii: { manifest: manifests.sg.cbpii, document: documents.sg.cbpii, baseUrl: sg.apis.cbpii },
        },
        // OIDC discovery; the token endpoint is on a separate mTLS host (mtls_endpoint_aliases).
        authorizationServer: { kind: 'discovery', issuer: sg.authorizationServer.issuer, useMtlsEndpointAliases: true },
        client: { clientId: sg.client.clientId, auth: { method: 'tls_client_auth' } },
        consent: { openid: true, extraParams: { acr_values: 'L1' } },
        // STET payment requests: the PSU approves at consentApproval and comes back to the gateway's report URLs.
        payments: { protocol: 'stet' },
        mtls: { cert: { file: sg.mtls.certFile }, key: { file: sg.mtls.keyFile }, ca },
        ...(sg.signing ? { signing: { keyId: sg.signing.keyId, key: { file: sg.signing.keyFile } } } : {}),
      },
      bg: {
        displayName: 'BG Sandbank (sandbox, Berlin Group)',
        apis: { xs2a: { manifest: manifests.bg.xs2a, document: documents.bg.xs2a, baseUrl: bg.apis.xs2a } },
        // RFC 8414 metadata; the token endpoint on the mTLS host; client_id is the QWAC's organizationIdentifier.
        authorizationServer: { kind: 'discovery', issuer: bg.authorizationServer.issuer, useMtlsEndpointAliases: true },
        client: { clientId: bg.client.clientId, auth: { method: 'tls_client_auth' } },
        // A consent resource authorised by the SCA approach the bank chooses (sandbox/bg/README.md).
        consent: { protocol: 'berlin-group' },
        // Payments initiated through the gateway are authorised through it (its callback) and followed.
        payments: { protocol: 'berlin-group' },
        mtls: { cert: { file: bg.mtls.certFile }, key: { file: bg.mtls.keyFile }, ca },
      },
      // UK Open Banking 4.0 behind FAPI (sandbox/ukob/README.md): intents first, private_key_jwt, PAR (FAPI 2.0) or
      // signed request objects and the hybrid flow (FAPI 1 Advanced, SANDBOX_UKOB_FAPI=1.0), certificate-bound tokens,
      // x-jws-signature on payments, which the gateway signs and keys itself (no caller is asked for them).
      ...(ukob
        ? {
            ukob: {
              displayName: 'UK Open Banking (sandbox)',
              apis: {
                aisp: { manifest: manifests.ukob.aisp, document: documents.ukob.aisp, baseUrl: ukob.apis.aisp },
                pisp: { manifest: manifests.ukob.pisp, document: documents.ukob.pisp, baseUrl: ukob.apis.pisp },
                cbpii: { manifest: manifests.ukob.cbpii, document: documents.ukob.cbpii, baseUrl: ukob.apis.cbpii },
                // Domestic VRP: consents created and signed through the gateway, authorised like a payment consent.
                vrp: { manifest: manifests.ukob.vrp, document: documents.ukob.vrp, baseUrl: ukob.apis.vrp },
              },
              authorizationServer: { kind: 'discovery' as const, issuer: ukob.authorizationServer.issuer, useMtlsEndpointAliases: true },
              client: { clientId: ukob.client.clientId, auth: { method: 'private_key_jwt' as const, keyId: ukob.signing.keyId, key: { file: ukob.signing.keyFile } } },
              authorizationRequest: ukob.fapiProfile === '1.0' ? { profile: 'fapi1-advanced' as const } : { profile: 'fapi2' as const },
              consent: { protocol: 'uk-open-banking' as const },
              jws: {
                keyId: ukob.signing.keyId,
                key: { file: ukob.signing.keyFile },
                issuer: ukob.signing.jwsIssuer,
                trustAnchor: ukob.signing.trustAnchor,
                verify: { jwksUrl: ukob.bankSigning.jwksUrl, issuer: ukob.bankSigning.issuer, trustAnchor: ukob.bankSigning.trustAnchor, apis: ['pisp', 'vrp'] },
              },
              mtls: { cert: { file: ukob.mtls.certFile }, key: { file: ukob.mtls.keyFile }, ca },
              // The gateway's own x-idempotency-key (derived, the same on a resend): a payment POST may be retried.
              transport: { idempotencyKeyHeader: 'x-idempotency-key' },
            },
          }
        : {}),
    },
  };
});
