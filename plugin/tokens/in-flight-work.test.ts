import { describe, expect, it } from 'vitest';
import { InFlightWork } from './in-flight-work.js';

const settleIn = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('InFlightWork (what a graceful stop waits for)', () => {
  it('a drain stops new work and waits for the running work, including work it starts meanwhile', async () => {
    const work = new InFlightWork();
    const order: string[] = [];
    void work.track(settleIn(30).then(() => {
      order.push('first');
      // A follow-up of the first (a journal entry's removal after its refresh) is waited for too.
      void work.track(settleIn(30).then(() => order.push('follow-up')));
    }));
    void work.track(Promise.reject(new Error('a failed refresh settles too')).catch(() => order.push('failed')));
    expect(work.stopping).toBe(false);
    const drain = work.drain(5000);
    expect(work.stopping).toBe(true);
    expect(await drain).toMatchObject({ drained: true, left: 0 });
    expect(order).toEqual(['failed', 'first', 'follow-up']);
  });

  it('is bounded: work that outlives the bound is reported, not waited for', async () => {
    const work = new InFlightWork();
    void work.track(new Promise(() => {})); // never settles
    const outcome = await work.drain(50);
    expect(outcome).toMatchObject({ drained: false, left: 1 });
    expect(outcome.ms).toBeGreaterThanOrEqual(45);
    expect(outcome.ms).toBeLessThan(1000);
  });

  it('one stop, one bound: a second drain ends by the first one\'s deadline, not a new one', async () => {
    const work = new InFlightWork();
    void work.track(new Promise(() => {}));
    expect((await work.drain(50)).drained).toBe(false);
    const again = await work.drain(5000);
    expect(again).toMatchObject({ drained: false, left: 1 });
    expect(again.ms).toBeLessThan(40);
  });
});
