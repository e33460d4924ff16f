import { Agent, request } from 'undici';

/**
 * A sandbox PSU in a headless browser's place: follows the bank's real redirect chain (authorize →
 * login/consent form → resume → redirect to the gateway's callback), keeping cookies like a browser,
 * and logs in with a sandbox identity number. Returns the callback URL the bank redirected to.
 */
export async function consentAsSandboxPsu(options: { authorizeUrl: string; psuId: string; caPem: string; maxHops?: number }): Promise<string> {
  const agent = new Agent({ connect: { ca: options.caPem } });
  const cookies = new Map<string, string>();
  const cookieHeader = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (setCookie: string | string[] | undefined) => {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
  };
  try {
    let url = options.authorizeUrl;
    let posted = false;
    for (let hop = 0; hop < (options.maxHops ?? 10); hop++) {
      const target = new URL(url);
      if (target.protocol === 'http:' && posted) return url; // back at the gateway's callback (http on loopback)
      const isForm = /\/interaction\/[^/]+$/.test(target.pathname) && !posted;
      const response = await request(url, {
        dispatcher: agent,
        method: isForm ? 'POST' : 'GET',
        headers: { cookie: cookieHeader(), ...(isForm ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        body: isForm ? new URLSearchParams({ psu_id: options.psuId }).toString() : undefined,
      });
      remember(response.headers['set-cookie']);
      const text = await response.body.text();
      if (isForm) posted = true;
      const location = response.headers.location;
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        url = new URL(location, url).href;
        if (url.includes('/callback/')) return url;
        continue;
      }
      throw new Error(`sandbox consent stopped at ${target.origin}${target.pathname} with HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
    }
    throw new Error('sandbox consent did not come back to the gateway within the allowed redirects');
  } finally {
    await agent.close();
  }
}
