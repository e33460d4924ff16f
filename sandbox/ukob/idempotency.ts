/**
 * `x-idempotency-key` on the payment POSTs, as the Read/Write profile asks: for 24 hours, the same TPP sending the
 * same key to the same endpoint with the same body gets the answer of the first request (the resource is created
 * once); the same key with another body is refused (400 `U006`, path `x-idempotency-key`). Only resources actually
 * created are remembered: a refused request may be corrected and sent again under the same key.
 * Concurrent requests with one key wait for the first one's answer instead of creating twice.
 */
import { createHash } from 'node:crypto';
import { OB_ERROR, obError } from './errors.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** The spec's schema of the header: at most 40 characters, no leading or trailing white space. */
const KEY_PATTERN = /^(?!\s)(.*)(\S)$/;

interface StoredAnswer {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
}

interface Entry {
  readonly bodyHash: string;
  readonly expiresAt: number;
  /** Undefined once the first request turned out not to create anything. */
  readonly answer: Promise<StoredAnswer | undefined>;
}

function replay(answer: StoredAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: [...answer.headers] as [string, string][] });
}

export class IdempotencyStore {
  readonly #entries = new Map<string, Entry>();

  /**
   * Runs `create` once per (client, endpoint, key, body); see the module comment.
   * @param scope who and where: the client id and the operation
   */
  async run(scope: string, key: string | null, body: Uint8Array, create: () => Promise<Response>): Promise<Response> {
    if (key === null) return obError(400, OB_ERROR.headerMissing, 'x-idempotency-key is required on this request', 'x-idempotency-key');
    if (key.length > 40 || !KEY_PATTERN.test(key)) {
      return obError(400, OB_ERROR.headerInvalid, 'x-idempotency-key must be 1 to 40 characters without leading or trailing white space', 'x-idempotency-key');
    }
    this.#sweep();
    const id = `${scope}\n${key}`;
    const bodyHash = createHash('sha256').update(body).digest('base64url');
    const known = this.#entries.get(id);
    if (known) {
      if (known.bodyHash !== bodyHash) {
        return obError(400, OB_ERROR.headerInvalid, 'x-idempotency-key was already used with another request body: use a new key for a new request', 'x-idempotency-key');
      }
      const answer = await known.answer;
      if (answer) return replay(answer);
    }
    const answer = create().then(async (response) => {
      if (response.status < 200 || response.status > 299) return { response, stored: undefined };
      const stored: StoredAnswer = { status: response.status, headers: [...response.headers], body: await response.text() };
      return { response: replay(stored), stored };
    });
    const entry: Entry = { bodyHash, expiresAt: Date.now() + IDEMPOTENCY_TTL_MS, answer: answer.then((a) => a.stored, () => undefined) };
    this.#entries.set(id, entry);
    try {
      const { response, stored } = await answer;
      if (!stored && this.#entries.get(id) === entry) this.#entries.delete(id);
      return response;
    } catch (error) {
      if (this.#entries.get(id) === entry) this.#entries.delete(id);
      throw error;
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(id);
  }
}
