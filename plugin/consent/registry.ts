/**
 * The consent protocols by `banks.<bank>.consent.protocol` name. A new standard registers here (UK Open Banking:
 * `uk-open-banking`), with its config schema in config-schema.ts.
 */
import { berlinGroupProtocol } from './berlin-group/protocol.js';
import { oauthProtocol } from './oauth/protocol.js';
import type { ConsentProtocol } from './protocol.js';
import { ukOpenBanking } from './ukob/uk-open-banking.js';

export const CONSENT_PROTOCOLS: ReadonlyMap<string, ConsentProtocol> = new Map([oauthProtocol, berlinGroupProtocol, ukOpenBanking].map((protocol) => [protocol.name, protocol]));
