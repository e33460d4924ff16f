import { z } from 'zod';
import { secretRefSchema } from '../config/secret-ref.js';

/** The default store: persistent, on this machine, next to the sandbox file. */
export const DEFAULT_STORE_URL = 'file:./.bankgate/tokens';
export const DEFAULT_LOCK_TTL_SECONDS = 30;

const storeUrl = z
  .string()
  .refine((url) => url === 'memory' || /^file:.+/.test(url) || /^rediss?:\/\/[^/]+/.test(url), 'must be memory, file:<directory> or redis://host:port/db');

const storeObject = z.strictObject({
  /** `memory`, `file:<dir>` or `redis://host:port/db`. Default: `BANKGATE_STORE`, else `file:./.bankgate/tokens`. */
  url: storeUrl.optional(),
  /**
   * AES-256-GCM at rest. `key` encrypts every new write; `previousKeys` only decrypt (rotation: make the old
   * key a previous one, set the new one). Default: `BANKGATE_STORE_KEY` / `BANKGATE_STORE_PREVIOUS_KEYS`;
   * a file store with neither generates a key next to its directory (development only).
   */
  encryption: z.strictObject({ key: secretRefSchema, previousKeys: z.array(secretRefSchema).default([]) }).optional(),
  /** How long a replica may hold a connection's refresh lock: the longest a dead replica can delay others. */
  lockTtlSeconds: z.number().int().min(2).max(300).default(DEFAULT_LOCK_TTL_SECONDS),
});

type StoreObjectInput = z.input<typeof storeObject>;
export type StoreConfig = z.output<typeof storeObject>;

/**
 * `store`: where connections and their token sets live, as a URL (`'redis://cache:6379/0'`) or an object
 * (`{ url, encryption: { key: { env: 'BANKGATE_STORE_KEY' } }, lockTtlSeconds }`). Errors name `store.url`, …
 */
export const storeSchema = z
  .preprocess((value) => (typeof value === 'string' ? { url: value } : value), storeObject)
  .default({ lockTtlSeconds: DEFAULT_LOCK_TTL_SECONDS }) as unknown as z.ZodDefault<z.ZodType<StoreConfig, string | StoreObjectInput>>;
