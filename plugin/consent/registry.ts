/**
 * The consent protocols by `banks.<bank>.consent.protocol` name. A new standard registers here (UK Open Banking:
 * `ukob`), with its config schema in config-schema.ts.
 */
import { berlinGroupProtocol } from './berlin-group/protocol.js';
import { oauthProtocol } from './oauth/protocol.js';
import type { ConsentProtocol } from './protocol.js';

export const CONSENT_PROTOCOLS: ReadonlyMap<string, ConsentProtocol> = new Map([oauthProtocol, berlinGroupProtocol].map((protocol) => [protocol.name, protocol]));
