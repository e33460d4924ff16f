import * as oauth from 'oauth4webapi';
import type { ResolvedBank } from '../config/resolve-config.js';
import type { BankTransport } from '../transport/types.js';
import { dpopHandle } from '../oauth/dpop.js';
import { privateKeyJwt } from '../oauth/private-key-jwt.js';
import { toOAuthError } from './oauth-error.js';

/**
 * The OAuth side of one bank: its authorization server metadata (static or discovered, discovered once
 * and cached, retried after a failure), the client, and how the client authenticates.
 */
export interface BankOAuth {
  readonly bank: ResolvedBank;
  readonly client: oauth.Client;
  readonly clientAuth: oauth.ClientAuth;
  /** Options for every oauth4webapi request: the bank's mTLS fetch, and the DPoP handle of a DPoP bank. */
  readonly requestOptions: { [oauth.customFetch]: typeof fetch; DPoP?: oauth.DPoPHandle };
  metadata(): Promise<oauth.AuthorizationServer>;
  /** The transport's client certificate thumbprint now (undefined when it exposes none): recorded on token sets. */
  certificateThumbprint(): string | undefined;
}

export function createBankOAuth(bank: ResolvedBank, transport: BankTransport): BankOAuth {
  const server = bank.authorizationServer;
  const client: oauth.Client = {
    client_id: bank.client.clientId,
    ...(server.kind === 'discovery' && server.useMtlsEndpointAliases ? { use_mtls_endpoint_aliases: true } : {}),
    ...(bank.authorizationRequest.idTokenAlgorithm ? { id_token_signed_response_alg: bank.authorizationRequest.idTokenAlgorithm } : {}),
  };
  // Token requests (and PAR) of a DPoP bank carry a proof: oauth4webapi adds it wherever `DPoP` is given.
  const dpop = bank.senderConstraint.method === 'dpop' ? dpopHandle(client, bank.senderConstraint.key) : undefined;
  const requestOptions = { [oauth.customFetch]: transport.fetch, ...(dpop ? { DPoP: dpop } : {}) };
  let discovered: Promise<oauth.AuthorizationServer> | undefined;

  const metadata = (): Promise<oauth.AuthorizationServer> => {
    if (server.kind === 'static') {
      return Promise.resolve({
        issuer: server.issuer,
        authorization_endpoint: server.authorizationEndpoint,
        token_endpoint: server.tokenEndpoint,
        ...(server.revocationEndpoint ? { revocation_endpoint: server.revocationEndpoint } : {}),
        ...(server.pushedAuthorizationRequestEndpoint ? { pushed_authorization_request_endpoint: server.pushedAuthorizationRequestEndpoint } : {}),
      });
    }
    discovered ??= discover(bank.name, new URL(server.issuer), bank.consent.openid, requestOptions).catch((error) => {
      discovered = undefined; // a bank that was down at first use is asked again next time
      throw error;
    });
    return discovered;
  };

  const certificateThumbprint = () => transport.clientCertificateThumbprint?.();
  return { bank, client, clientAuth: clientAuthFor(bank), requestOptions, metadata, certificateThumbprint };
}

async function discover(bankName: string, issuer: URL, openid: boolean, options: { [oauth.customFetch]: typeof fetch }) {
  try {
    const response = await oauth.discoveryRequest(issuer, { ...options, algorithm: openid ? 'oidc' : 'oauth2' });
    return await oauth.processDiscoveryResponse(issuer, response);
  } catch (error) {
    throw toOAuthError(bankName, 'discovery request', error);
  }
}

function clientAuthFor(bank: ResolvedBank): oauth.ClientAuth {
  switch (bank.client.method) {
    case 'client_secret_post':
      return oauth.ClientSecretPost(bank.client.secret!);
    case 'client_secret_basic':
      return oauth.ClientSecretBasic(bank.client.secret!);
    case 'tls_client_auth':
      return oauth.TlsClientAuth();
    case 'private_key_jwt':
      return privateKeyJwt(bank.client.assertionKey!);
  }
}
