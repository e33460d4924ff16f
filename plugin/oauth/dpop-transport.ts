/**
 * Bank calls of a DPoP bank (RFC 9449 §7): `Authorization: DPoP <token>` and a `DPoP` proof of the request (`htm`,
 * `htu`, `ath` = the token's hash, the server's nonce when it gave one), written by oauth4webapi's
 * `protectedResourceRequest` with the bank's DPoP handle, sent by the bank's own transport. A resource server's
 * `use_dpop_nonce` refusal is answered once more with the nonce it gave (§9).
 */
import * as oauth from 'oauth4webapi';
import type { ResolvedBank } from '../config/resolve-config.js';
import type { BankRequest, BankResponse, BankTransport } from '../transport/types.js';
import { dpopHandle } from './dpop.js';

/** The bank's transport, with every bearer-token call turned into a DPoP call. Calls without a token pass as they are. */
export function withDpop(transport: BankTransport, handle: oauth.DPoPHandle): BankTransport {
  const sendOnce = async (request: BankRequest, token: string): Promise<{ response: BankResponse; nonceRefused: boolean }> => {
    let response: BankResponse | undefined;
    // oauth4webapi signs the proof and "fetches"; the fetch hands the two headers it wrote to the bank transport.
    const relay = async (_url: string, init: oauth.CustomFetchOptions<string, unknown>): Promise<Response> => {
      const written = new Headers(init.headers);
      response = await transport.send({ ...request, headers: { ...request.headers, authorization: written.get('authorization')!, dpop: written.get('dpop')! } });
      return new Response(null, { status: response.status === 204 || response.status === 304 ? 200 : response.status, headers: challengeHeaders(response) });
    };
    const { authorization: _bearer, ...headers } = request.headers;
    try {
      await oauth.protectedResourceRequest(token, request.method, new URL(request.path, request.origin), new Headers(headers), null, { DPoP: handle, [oauth.customFetch]: relay, ...(request.signal ? { signal: request.signal } : {}) });
      return { response: response!, nonceRefused: false };
    } catch (error) {
      // A challenge (401 and WWW-Authenticate) is the bank's answer: the caller's 401 handling sees it as it came.
      if (response && error instanceof oauth.WWWAuthenticateChallengeError) return { response, nonceRefused: oauth.isDPoPNonceError(error) };
      throw error;
    }
  };

  return {
    ...transport,
    async send(request) {
      const authorization = request.headers.authorization;
      if (authorization === undefined || !/^Bearer /i.test(authorization)) return transport.send(request);
      const token = authorization.slice('Bearer '.length);
      const first = await sendOnce(request, token);
      return first.nonceRefused ? (await sendOnce(request, token)).response : first.response;
    },
  };
}

/** What oauth4webapi reads of the answer: the challenge and the nonce. */
function challengeHeaders(response: BankResponse): Headers {
  const headers = new Headers();
  for (const name of ['www-authenticate', 'dpop-nonce']) {
    const value = response.headers[name];
    if (value !== undefined) for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

/** The bank's transport as its `senderConstraint` wants it: as is for `mtls`, `withDpop` for a DPoP bank. */
export function senderConstrainedTransport(bank: Pick<ResolvedBank, 'senderConstraint'>, transport: BankTransport): BankTransport {
  return bank.senderConstraint.method === 'dpop' ? withDpop(transport, dpopHandle({ client_id: 'bankgate' }, bank.senderConstraint.key)) : transport;
}
