/** The ukob sandbox's VRP ControlParameters (sandbox/ukob/vrp-limits.ts): periods by alignment, and each limit's verdict. */
import { describe, expect, it } from 'vitest';
import { checkControlParameters, consentControlProblem, periodStart, type ControlParameters } from '../../sandbox/ukob/vrp-limits.js';

const at = (iso: string) => Date.parse(iso);

function control(overrides: Partial<ControlParameters> = {}): ControlParameters {
  return {
    MaximumIndividualAmount: { Amount: '50.00', Currency: 'GBP' },
    PeriodicLimits: [{ PeriodType: 'Week', PeriodAlignment: 'Calendar', Amount: '100.00', Currency: 'GBP' }],
    VRPType: ['UK.OBIE.VRPType.Sweeping'],
    PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
    ...overrides,
  };
}

const ask = (amount: number, when: string) => ({ vrpType: 'UK.OBIE.VRPType.Sweeping', psuAuthenticationMethod: 'UK.OBIE.SCANotRequired', currency: 'GBP', amount, at: at(when) });

describe('VRP periods', () => {
  it('aligns calendar periods on UTC days, ISO weeks (Monday), months, half-years and years', () => {
    const now = at('2026-11-28T19:00:00Z'); // a Saturday
    const start = (type: string) => new Date(periodStart({ PeriodType: type, PeriodAlignment: 'Calendar' }, at('2020-01-01T00:00:00Z'), now)).toISOString();
    expect(start('Day')).toBe('2026-11-28T00:00:00.000Z');
    expect(start('Week')).toBe('2026-11-23T00:00:00.000Z');
    expect(start('Month')).toBe('2026-11-01T00:00:00.000Z');
    expect(start('Half-year')).toBe('2026-07-01T00:00:00.000Z');
    expect(start('Year')).toBe('2026-01-01T00:00:00.000Z');
  });

  it('counts consent-aligned periods from the consent start, fortnights included', () => {
    const consent = at('2026-11-03T10:30:00Z');
    const start = (type: string, now: string) => new Date(periodStart({ PeriodType: type, PeriodAlignment: 'Consent' }, consent, at(now))).toISOString();
    expect(start('Day', '2026-11-28T09:00:00Z')).toBe('2026-11-27T10:30:00.000Z');
    expect(start('Fortnight', '2026-11-28T09:00:00Z')).toBe('2026-11-17T10:30:00.000Z');
    expect(start('Month', '2026-12-03T10:29:59Z')).toBe('2026-11-03T10:30:00.000Z');
    expect(start('Month', '2026-12-03T10:30:00Z')).toBe('2026-12-03T10:30:00.000Z');
    expect(start('Half-year', '2027-05-03T10:29:59Z')).toBe('2026-11-03T10:30:00.000Z');
    expect(start('Year', '2027-11-03T10:29:59Z')).toBe('2026-11-03T10:30:00.000Z');
    // Years of periods are counted, not looped over.
    const long = (type: string, now: string) => new Date(periodStart({ PeriodType: type, PeriodAlignment: 'Consent' }, at('2001-01-31T06:00:00Z'), at(now))).toISOString();
    expect(long('Day', '2026-11-28T05:59:59Z')).toBe('2026-11-27T06:00:00.000Z');
    expect(long('Week', '2026-11-28T05:59:59Z')).toBe('2026-11-25T06:00:00.000Z'); // Wednesdays, as the consent
    expect(long('Month', '2026-11-28T05:59:59Z')).toBe('2026-10-31T06:00:00.000Z');
    expect(long('Year', '2026-11-28T05:59:59Z')).toBe('2026-01-31T06:00:00.000Z');
  });
});

describe('VRP limits', () => {
  it('refuses over the individual maximum and over a period, counting only the current period', () => {
    const limits = control();
    const earlier = [
      { at: at('2026-11-20T12:00:00Z'), amount: 5000 }, // last week: not counted
      { at: at('2026-11-24T12:00:00Z'), amount: 4000 },
      { at: at('2026-11-26T12:00:00Z'), amount: 4000 },
    ];
    expect(checkControlParameters(limits, at('2026-11-01T00:00:00Z'), ask(2000, '2026-11-28T12:00:00Z'), earlier)).toEqual({ ok: true });
    expect(checkControlParameters(limits, at('2026-11-01T00:00:00Z'), ask(2001, '2026-11-28T12:00:00Z'), earlier)).toMatchObject({ ok: false, path: 'Data.ControlParameters.PeriodicLimits[0].Amount' });
    expect(checkControlParameters(limits, at('2026-11-01T00:00:00Z'), ask(5001, '2026-11-30T12:00:00Z'), [])).toMatchObject({ ok: false, path: 'Data.ControlParameters.MaximumIndividualAmount.Amount' });
    // A new week: the limit is whole again.
    expect(checkControlParameters(limits, at('2026-11-01T00:00:00Z'), ask(5000, '2026-11-30T00:00:00Z'), earlier)).toEqual({ ok: true });
  });

  it('refuses a payment before ValidFromDateTime, of another VRPType or authentication method, or in another currency', () => {
    const limits = control({ ValidFromDateTime: '2026-12-01T00:00:00+00:00' });
    const consentStart = at('2026-12-01T00:00:00Z');
    expect(checkControlParameters(limits, consentStart, ask(100, '2026-11-30T00:00:00Z'), [])).toMatchObject({ ok: false, path: 'Data.ControlParameters.ValidFromDateTime' });
    const later = '2026-12-02T00:00:00Z';
    expect(checkControlParameters(limits, consentStart, { ...ask(100, later), vrpType: 'UK.OBIE.VRPType.Other' }, [])).toMatchObject({ ok: false, path: 'Data.ControlParameters.VRPType' });
    expect(checkControlParameters(limits, consentStart, { ...ask(100, later), psuAuthenticationMethod: 'UK.OBIE.SCA' }, [])).toMatchObject({ ok: false, path: 'Data.ControlParameters.PSUAuthenticationMethods' });
    expect(checkControlParameters(limits, consentStart, { ...ask(100, later), currency: 'EUR' }, [])).toMatchObject({ ok: false, path: 'Data.ControlParameters.MaximumIndividualAmount.Currency' });
  });

  it('refuses a consent in another currency, with a calendar fortnight, or already over', () => {
    const now = at('2026-11-28T00:00:00Z');
    expect(consentControlProblem(control({ MaximumIndividualAmount: { Amount: '1.00', Currency: 'EUR' } }), now)).toMatchObject({ code: 'currency' });
    expect(consentControlProblem(control({ PeriodicLimits: [{ PeriodType: 'Fortnight', PeriodAlignment: 'Calendar', Amount: '1.00', Currency: 'GBP' }] }), now)).toMatchObject({ code: 'field', path: 'Data.ControlParameters.PeriodicLimits[0].PeriodAlignment' });
    expect(consentControlProblem(control({ ValidToDateTime: '2026-11-27T00:00:00+00:00' }), now)).toMatchObject({ code: 'date', path: 'Data.ControlParameters.ValidToDateTime' });
    expect(consentControlProblem(control(), now)).toBeUndefined();
  });
});
