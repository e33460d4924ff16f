import { describe, expect, it } from 'vitest';
import { SingleFlight } from './single-flight.js';

describe('SingleFlight', () => {
  it('runs a task once for every concurrent caller of a key and shares its result', async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    let release!: (n: number) => void;
    const task = () => {
      runs++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const all = Promise.all(Array.from({ length: 10 }, () => flights.run('k', task)));
    release(42);
    expect(await all).toEqual(Array(10).fill(42));
    expect(runs).toBe(1);
    expect(flights.size).toBe(0);
  });

  it('shares a failure too, then runs again on the next call', async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    const failing = () => {
      runs++;
      return Promise.reject(new Error('bank down'));
    };
    const results = await Promise.allSettled([flights.run('k', failing), flights.run('k', failing)]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(runs).toBe(1);
    await expect(flights.run('k', async () => 1)).resolves.toBe(1);
  });
});
