/**
 * One in-flight run per key: every caller that asks while a run is under way gets that run's result.
 * This is what keeps fifty concurrent calls on an expired token down to one refresh at the bank.
 */
export class SingleFlight<T> {
  readonly #running = new Map<string, Promise<T>>();

  run(key: string, task: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key);
    if (running) return running;
    const started = task().finally(() => this.#running.delete(key));
    this.#running.set(key, started);
    return started;
  }

  /** True while a run for `key` is under way (a caller asking now joins it). */
  running(key: string): boolean {
    return this.#running.has(key);
  }

  get size(): number {
    return this.#running.size;
  }
}
