import type { RouteManifest } from '../manifest/types.js';
import { CONSENT_HEADERS } from './owned-headers.js';

/**
 * True when a call of `route` acts for a PSU's connection: it takes the PSU's token, or it requires a header that
 * names the PSU's consent, which the gateway sets from the connection (Berlin Group's `Consent-ID`:
 * `GET /v1/trusted-beneficiaries` declares no OAuth security, yet only a consent authorises it).
 */
export function actsForConnection(route: Pick<RouteManifest, 'tokenKind' | 'params'>, tokenKind = route.tokenKind): boolean {
  return tokenKind === 'psu' || route.params.header.some((h) => h.required && CONSENT_HEADERS.includes(h.name.toLowerCase()));
}
