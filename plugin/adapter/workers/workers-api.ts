/**
 * The parts of the Workers platform bankgate/workers uses, typed here so that the package type-checks without
 * `@cloudflare/workers-types` (and so that nothing is imported from `cloudflare:*`).
 */

/** A service or `mtls_certificates` binding: `env.QWAC_SEB.fetch(url, init)` presents the bound certificate. */
export interface Fetcher {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

export interface DurableObjectId {
  toString(): string;
}

export interface DurableObjectStub {
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

export interface DurableObjectNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub;
}

export interface DurableObjectStorage {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<boolean>;
}

export interface DurableObjectState {
  readonly storage: DurableObjectStorage;
  blockConcurrencyWhile<T>(run: () => Promise<T>): Promise<T>;
}

export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** A Worker's `env`: string vars and secrets, and bindings (objects). */
export type WorkersEnv = Readonly<Record<string, unknown>>;

export function isFetcher(value: unknown): value is Fetcher {
  return typeof value === 'object' && value !== null && typeof (value as Fetcher).fetch === 'function';
}

export function isDurableObjectNamespace(value: unknown): value is DurableObjectNamespace {
  return typeof value === 'object' && value !== null && typeof (value as DurableObjectNamespace).idFromName === 'function';
}
