import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyRing } from '../../../store/key-ring.js';
import { writeFileAtomic } from './atomic-file.js';

/** What the log remembers of one record: the generation of its last write, or of its deletion. */
export interface Seen {
  readonly generation: number;
  readonly deleted: boolean;
}

const LOG_FILE = 'generations.log';
const AAD = 'bankgate:generations';

/**
 * The file store's memory of what it wrote (finding 14 of issue 15): every write and every deletion gets a
 * store-wide generation, sealed into the record itself and appended (sealed too) to this log. At start, a
 * record whose authenticated generation is older than the one the log saw for it (a file rolled back into
 * the directory) is refused. Append-only, one sealed line per event, fsync'd before the write is
 * acknowledged (appends waiting together share one fsync); rewritten compact at every start. A rollback
 * of the whole directory, log included, is not detectable from inside it.
 */
export class GenerationLog {
  readonly #path: string;
  readonly #keys: KeyRing;
  #queue: Array<{ line: string; done: (error?: unknown) => void }> = [];
  #flushing: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    keys: KeyRing,
    /** True when the directory had a log: records without an authenticated generation are refused then. */
    readonly existed: boolean,
    readonly seen: Map<string, Seen>,
  ) {
    this.#path = join(dir, LOG_FILE);
    this.#keys = keys;
  }

  /** Reads the log of `dir` (absent: an empty log). A torn last line (a crash mid-append) is ignored; an unreadable one is reported. */
  static async open(dir: string, keys: KeyRing, onUnreadable: () => void): Promise<GenerationLog> {
    let text: string;
    try {
      text = await readFile(join(dir, LOG_FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return new GenerationLog(dir, keys, false, new Map());
    }
    const seen = new Map<string, Seen>();
    // The last piece after the final newline is '' or a line a crash tore: either way not an event.
    for (const line of text.split('\n').slice(0, -1)) {
      if (line === '') continue;
      try {
        const entry = JSON.parse(await keys.open(line, AAD)) as { id: string; g: number; d?: 1 };
        const previous = seen.get(entry.id);
        if (!previous || previous.generation < entry.g) seen.set(entry.id, { generation: entry.g, deleted: entry.d === 1 });
      } catch {
        onUnreadable();
      }
    }
    return new GenerationLog(dir, keys, true, seen);
  }

  /** The highest generation the log holds. */
  get highest(): number {
    let highest = 0;
    for (const { generation } of this.seen.values()) highest = Math.max(highest, generation);
    return highest;
  }

  /** Rewrites the log with one line per record (atomically): what `seen` holds now. */
  async compact(): Promise<void> {
    const lines = await Promise.all([...this.seen].map(([id, { generation, deleted }]) => this.#line(id, generation, deleted)));
    await writeFileAtomic(this.dir, LOG_FILE, lines.join(''));
  }

  /** Appends one event durably; resolves once it is on disk. */
  async record(id: string, generation: number, deleted = false): Promise<void> {
    const line = await this.#line(id, generation, deleted);
    await new Promise<void>((resolve, reject) => {
      this.#queue.push({ line, done: (error) => (error ? reject(error) : resolve()) });
      this.#flushing ??= this.#flush();
    });
    const previous = this.seen.get(id);
    if (!previous || previous.generation < generation) this.seen.set(id, { generation, deleted });
  }

  async #line(id: string, generation: number, deleted: boolean): Promise<string> {
    return `${await this.#keys.seal(JSON.stringify({ id, g: generation, ...(deleted ? { d: 1 } : {}) }), AAD)}\n`;
  }

  /** Writes every queued line with one fsync, until the queue is empty. */
  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        try {
          const handle = await open(this.#path, 'a', 0o600);
          try {
            await handle.writeFile(batch.map((b) => b.line).join(''), 'utf8');
            await handle.sync();
          } finally {
            await handle.close();
          }
          for (const b of batch) b.done();
        } catch (error) {
          for (const b of batch) b.done(error);
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}
