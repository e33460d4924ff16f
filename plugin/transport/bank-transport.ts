import type { ResolvedBank } from '../config/resolve-config.js';
import type { Logger } from '../log.js';
import type { MetricsRegistry } from '../observability/metrics.js';
import { createNodeTransport } from './node-transport.js';
import type { BankTransport } from './types.js';

/** The default transport of a configured bank on Node: undici with its QWAC, pinned CA and signing key. */
export function createBankTransport(bank: ResolvedBank, _context?: { metrics: MetricsRegistry; log: Logger }): BankTransport {
  return createNodeTransport({
    bank: bank.name,
    tls: { cert: bank.tls.cert, key: bank.tls.key, ...(bank.tls.ca ? { ca: bank.tls.ca } : {}) },
    ...(bank.signing ? { signing: { keyId: bank.signing.keyId, key: bank.signing.key } } : {}),
  });
}
