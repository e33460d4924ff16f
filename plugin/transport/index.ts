/** The bank transport: how bankgate talks to one bank. See README.md beside this file. */
export type { BankRequest, BankResponse, BankTransport } from './types.js';
export { createNodeTransport, type NodeTransport } from './node-transport.js';
export type { NodeTransportOptions, SigningOptions, TimeoutOptions, TlsOptions } from './options.js';
export { createFetchTransport, type FetchTransportOptions } from './fetch-transport.js';
export { digestHeader, signatureHeader, signingString, type SignatureInput } from './signing.js';
export { classifyTransportError, type ClassifyContext } from './classify-error.js';
export { createBankTransport, type ConfiguredBankTransport, type BankTransportContext } from './bank-transport.js';
export { withResilience, type ResilienceOptions } from './resilient-transport.js';
export { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
export { loadClientIdentity, pkcs12ConversionHelp, thumbprintOf, ClientIdentityError, type ClientIdentity, type ClientIdentityMaterial } from './client-identity.js';
export { inspectCertificate, type CertificateInfo } from './certificate-info.js';
