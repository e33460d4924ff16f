import { z } from 'zod';
import { secretRefSchema } from '../config/secret-ref.js';

/** The default store: persistent, on this machine, next to the sandbox file. */
export const DEFAULT_STORE_URL = 'file:./.bankgate/tokens';
export const DEFAULT_LOCK_TTL_SECONDS = 30;

/** Every store form some runtime opens; whether this runtime has it is the runtime's to say at start. */
export const STORE_FORMS = 'memory, file:<directory>, redis://host:port/db, deno-kv:[<path>|:memory:] (Deno) or durable-object:<BINDING> (Workers)';
const storeUrl = z
  .string()
  .refine(
    (url) => url === 'memory' || /^file:.+/.test(url) || /^rediss?:\/\/[^/]+/.test(url) || /^deno-kv:/.test(url) || /^durable-object:[A-Za-z_][A-Za-z0-9_]*$/.test(url),
    `must be ${STORE_FORMS}`,
  );

const storeObject = z.strictObject({
  /**
   * `memory`, `file:<dir>`, `redis://host:port/db` (Node, Bun; Deno for Redis), `deno-kv:<path>` (Deno KV),
   * `durable-object:<BINDING>` (Workers). Default: `BANKGATE_STORE`, else the runtime's default (`file:./.bankgate/tokens` on Node).
   */
  url: storeUrl.optional(),
  /**
   * AES-256-GCM at rest. `key` encrypts every new write; `previousKeys` only decrypt (rotation: make the old
   * key a previous one, set the new one). Default: `BANKGATE_STORE_KEY` / `BANKGATE_STORE_PREVIOUS_KEYS`;
   * a file store with neither generates a key next to its directory (development only).
   */
  encryption: z.strictObject({ key: secretRefSchema, previousKeys: z.array(secretRefSchema).default([]) }).optional(),
  /**
   * Where this replica journals a refreshed token set a shared store (Redis) could not take (issue 15,
   * finding 1): a local directory (Node, Bun; it survives restarts, replicas on one host may share it), or `none`.
   * Default: `BANKGATE_JOURNAL`, else `./.bankgate/journal`. Runtimes without local durable storage have none.
   */
  journal: z.string().min(1).optional(),
  /** How long a replica may hold a connection's refresh lock: the longest a dead replica can delay others. */
  lockTtlSeconds: z.number().int().min(2).max(300).default(DEFAULT_LOCK_TTL_SECONDS),
  /**
   * After a dead replica's lease ran out, how long the next holder waits for that replica's journal to hand a newer
   * token set over (it may come back with the bank's answer) before presenting the refresh token itself. 0 (default):
   * no wait, so a dead replica delays others by at most `lockTtlSeconds`. More saves the grant of a replica that
   * restarts late (with a bank that revokes on reuse), at the cost of that longer delay. Redis stores only.
   */
  handoverWaitSeconds: z.number().int().min(0).max(300).default(0),
});

type StoreObjectInput = z.input<typeof storeObject>;
export type StoreConfig = z.output<typeof storeObject>;

/**
 * `store`: where connections and their token sets live, as a URL (`'redis://cache:6379/0'`) or an object
 * (`{ url, encryption: { key: { env: 'BANKGATE_STORE_KEY' } }, lockTtlSeconds }`). Errors name `store.url`, …
 */
export const storeSchema = z
  .preprocess((value) => (typeof value === 'string' ? { url: value } : value), storeObject)
  .default({ lockTtlSeconds: DEFAULT_LOCK_TTL_SECONDS, handoverWaitSeconds: 0 }) as unknown as z.ZodDefault<z.ZodType<StoreConfig, string | StoreObjectInput>>;
