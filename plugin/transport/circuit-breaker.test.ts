import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';

function breaker(overrides: Partial<ConstructorParameters<typeof CircuitBreaker>[0]> = {}) {
  let now = 0;
  const states: CircuitState[] = [];
  const b = new CircuitBreaker({ failureThreshold: 3, failureRate: 0.5, windowSize: 10, coolDownMs: 1_000, now: () => now, onStateChange: (s) => states.push(s), ...overrides });
  const call = (success: boolean) => {
    const permit = b.tryAcquire();
    if (!permit.allowed) return permit;
    b.record(success, permit.probe);
    return permit;
  };
  return { b, call, states, advance: (ms: number) => (now += ms) };
}

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, refuses until the cool-down, then lets one probe through', () => {
    const { b, call, states, advance } = breaker();
    call(false);
    call(false);
    call(true); // a success resets the run
    call(false);
    call(false);
    expect(b.state).toBe('closed');
    call(false);
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toEqual({ allowed: false, retryAt: 1_000 });
    advance(1_000);
    const probe = b.tryAcquire();
    expect(probe).toEqual({ allowed: true, probe: true });
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire().allowed).toBe(false); // only one probe at a time
    b.record(true, true);
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'closed']);
  });

  it('a failed probe opens it again for a new cool-down', () => {
    const { b, call, advance } = breaker();
    for (let i = 0; i < 3; i++) call(false);
    advance(1_000);
    const probe = b.tryAcquire();
    b.record(false, (probe as { probe: boolean }).probe);
    expect(b.state).toBe('open');
    advance(999);
    expect(b.tryAcquire().allowed).toBe(false);
    advance(1);
    expect(b.tryAcquire().allowed).toBe(true);
  });

  it('each failed probe doubles the cool-down up to maxCoolDownMs; a probe that succeeds starts over', () => {
    const { b, call, advance } = breaker({ maxCoolDownMs: 3_000 });
    for (let i = 0; i < 3; i++) call(false);
    const failProbeAfter = (ms: number) => {
      advance(ms - 1);
      expect(b.tryAcquire().allowed).toBe(false);
      advance(1);
      const probe = b.tryAcquire();
      expect(probe).toEqual({ allowed: true, probe: true });
      b.record(false, true);
    };
    failProbeAfter(1_000);
    failProbeAfter(2_000);
    failProbeAfter(3_000); // capped
    failProbeAfter(3_000);
    advance(3_000);
    b.record(true, (b.tryAcquire() as { probe: boolean }).probe);
    expect(b.state).toBe('closed');
    for (let i = 0; i < 3; i++) call(false);
    failProbeAfter(1_000); // the next opening starts from coolDownMs again
  });

  it('opens on the failure rate over a full window, without a run of N', () => {
    const { b, call } = breaker({ failureThreshold: 100, windowSize: 4, failureRate: 0.5 });
    call(false);
    call(true);
    call(false);
    expect(b.state).toBe('closed'); // window not full yet
    call(true);
    expect(b.state).toBe('open'); // 2 of the last 4
  });

  it('a released probe (nothing sent) lets the next call probe', () => {
    const { b, call, advance } = breaker();
    for (let i = 0; i < 3; i++) call(false);
    advance(1_000);
    b.release((b.tryAcquire() as { probe: boolean }).probe);
    expect(b.tryAcquire()).toEqual({ allowed: true, probe: true });
  });
});
