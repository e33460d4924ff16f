/**
 * The part of the `Deno` namespace bankgate/deno uses, typed here so that the project type-checks without
 * Deno's own declarations (the package is built with tsc on Node). Read through `deno()`, never at import
 * time, so that importing this module elsewhere fails only when it is used.
 */

export interface DenoHttpClient {
  close(): void;
}

export interface DenoTlsConn {
  handshake(): Promise<unknown>;
  write(bytes: Uint8Array): Promise<number>;
  /** Bytes read, or null at the end of the stream. */
  read(into: Uint8Array): Promise<number | null>;
  close(): void;
}

export interface DenoKvEntry<T> {
  readonly key: readonly unknown[];
  readonly value: T | null;
  readonly versionstamp: string | null;
}

export interface DenoKvAtomic {
  check(...checks: Array<{ key: readonly unknown[]; versionstamp: string | null }>): DenoKvAtomic;
  set(key: readonly unknown[], value: unknown, options?: { expireIn?: number }): DenoKvAtomic;
  delete(key: readonly unknown[]): DenoKvAtomic;
  commit(): Promise<{ ok: boolean; versionstamp?: string }>;
}

export interface DenoKv {
  get<T>(key: readonly unknown[], options?: { consistency?: 'strong' | 'eventual' }): Promise<DenoKvEntry<T>>;
  atomic(): DenoKvAtomic;
  close(): void;
}

export interface DenoFsWatcher extends AsyncIterable<{ kind: string; paths: string[] }> {
  close(): void;
}

export interface DenoNamespace {
  readonly pid: number;
  readonly version: { readonly deno: string };
  readonly env: { toObject(): Record<string, string> };
  hostname(): string;
  cwd(): string;
  readFileSync(path: string): Uint8Array;
  readTextFileSync(path: string): string;
  writeTextFileSync(path: string, data: string, options?: { mode?: number; createNew?: boolean }): void;
  mkdirSync(path: string, options?: { recursive?: boolean; mode?: number }): void;
  createHttpClient(options: { cert?: string; key?: string; caCerts?: string[] }): DenoHttpClient;
  connectTls(options: { hostname: string; port: number; cert?: string; key?: string; caCerts?: string[] }): Promise<DenoTlsConn>;
  /** Present only with `--unstable-kv`. */
  openKv?(path?: string): Promise<DenoKv>;
  watchFs(paths: string | string[], options?: { recursive?: boolean }): DenoFsWatcher;
  unrefTimer(id: number): void;
  readonly stderr: { writeSync(bytes: Uint8Array): number };
  serve(options: { port?: number; hostname?: string; signal?: AbortSignal; onListen?: (address: { hostname: string; port: number }) => void }, handler: (request: Request) => Response | Promise<Response>): { finished: Promise<void>; shutdown(): Promise<void> };
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  exit(code?: number): never;
}

/** The `Deno` global; throws a clear error outside Deno. */
export function deno(): DenoNamespace {
  const found = (globalThis as { Deno?: DenoNamespace }).Deno;
  if (!found) throw new Error('bankgate/deno runs on Deno only (globalThis.Deno is missing): on Node import bankgate/node, on Bun bankgate/bun');
  return found;
}
