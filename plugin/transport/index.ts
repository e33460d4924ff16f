/** The bank transport, the portable part: how bankgate talks to one bank. See README.md beside this file. */
export type { BankRequest, BankResponse, BankTransport } from './types.js';
export { createFetchTransport, type FetchTransportOptions } from './fetch-transport.js';
export { digestHeader, signatureHeader, signingString, type SignatureInput } from './signing.js';
export { prepareSigning, resolveSigningOptions, type ResolvedSigning, type SigningOptions, type DecryptPrivateKey } from './signing-options.js';
export { createRequestSigner, type RequestSigner } from './request-signer.js';
export { classifyTransportError, type ClassifyContext } from './classify-error.js';
export { createBankTransport, type ConfiguredBankTransport } from './bank-transport.js';
export { withResilience, type ResilienceOptions } from './resilient-transport.js';
export { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
export { reportExpiry, type ExpiringCertificate } from './certificate-expiry.js';
