import * as oauth from 'oauth4webapi';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestSandbox } from './helpers.js';

describe('SANDBOX_REDIRECT_URIS', () => {
  const previous = process.env.SANDBOX_REDIRECT_URIS;
  afterEach(() => {
    if (previous === undefined) delete process.env.SANDBOX_REDIRECT_URIS;
    else process.env.SANDBOX_REDIRECT_URIS = previous;
  });

  it('registers the extra redirect URIs, matched exactly', async () => {
    process.env.SANDBOX_REDIRECT_URIS = 'https://gateway.example.com/callback/seb, http://127.0.0.1:3000/other';
    const sandbox = await startTestSandbox();
    try {
      const status = async (redirectUri: string) => {
        const url = new URL(sandbox.file.banks.seb.authorizationServer.authorizationEndpoint);
        url.search = new URLSearchParams({
          client_id: sandbox.file.banks.seb.client.clientId,
          response_type: 'code',
          redirect_uri: redirectUri,
          scope: 'psd2_accounts',
          code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
          code_challenge_method: 'S256',
        }).toString();
        const response = await sandbox.fetch(sandbox.agents.none, url, { redirect: 'manual' });
        await response.body?.cancel();
        return response.status;
      };
      expect(await status('https://gateway.example.com/callback/seb')).toBe(303);
      expect(await status('http://127.0.0.1:3000/other')).toBe(303);
      expect(await status('https://gateway.example.com/callback/other')).toBe(400);
    } finally {
      await sandbox.close();
    }
  });

  it('fails the start with the reason when one is invalid', async () => {
    process.env.SANDBOX_REDIRECT_URIS = 'http://gateway.example.com/callback/seb';
    await expect(startTestSandbox()).rejects.toThrow(/SANDBOX_REDIRECT_URIS/);
  });
});
