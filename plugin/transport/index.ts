/** The bank transport: how bankgate talks to one bank. See README.md beside this file. */
export type { BankRequest, BankResponse, BankTransport } from './types.js';
export { createNodeTransport } from './node-transport.js';
export type { NodeTransportOptions, SigningOptions, TimeoutOptions, TlsOptions } from './options.js';
export { createFetchTransport, type FetchTransportOptions } from './fetch-transport.js';
export { digestHeader, signatureHeader, signingString, type SignatureInput } from './signing.js';
export { classifyTransportError, type ClassifyContext } from './classify-error.js';
