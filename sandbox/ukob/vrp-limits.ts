/**
 * A VRP consent's `ControlParameters` as the UK-OB-like bank applies them to each payment: the validity window,
 * `VRPType`, `PSUAuthenticationMethods`, `PSUInteractionTypes`, `MaximumIndividualAmount` and every `PeriodicLimits`
 * entry, the period being the one the payment falls in (`PeriodAlignment` `Consent`: periods counted from the
 * consent's start, its `ValidFromDateTime` or else its creation; `Calendar`: UTC calendar days, ISO weeks from Monday,
 * months, half-years from 1 January and 1 July, years). A breach is `UK.OBIE.Rules.FailsControlParameters`, the 4.0
 * code `U014`, with `Path` naming the control parameter that failed (the VRP spec asks for that field).
 */

/** What a payment asks of the consent. */
export interface VrpPaymentAsk {
  readonly vrpType: string;
  readonly psuAuthenticationMethod: string;
  readonly psuInteractionType?: string;
  readonly currency: string;
  /** Pence. */
  readonly amount: number;
  readonly at: number;
}

/** An earlier payment of the consent that counts against its periodic limits (one not rejected). */
export interface CountedPayment {
  readonly at: number;
  /** Pence. */
  readonly amount: number;
}

export interface ControlParameters {
  readonly ValidFromDateTime?: string;
  readonly ValidToDateTime?: string;
  readonly MaximumIndividualAmount: { readonly Amount: string; readonly Currency: string };
  readonly PeriodicLimits: readonly { readonly PeriodType: string; readonly PeriodAlignment: string; readonly Amount: string; readonly Currency: string }[];
  readonly VRPType: readonly string[];
  readonly PSUAuthenticationMethods: readonly string[];
  readonly PSUInteractionTypes?: readonly string[];
}

export type LimitVerdict = { readonly ok: true } | { readonly ok: false; readonly path: string; readonly message: string };

const PREFIX = 'Data.ControlParameters';

/** An OB amount (`"10.50"`) in pence. */
export function pence(amount: string): number {
  return Math.round(Number(amount) * 100);
}

function pounds(value: number): string {
  return (value / 100).toFixed(2);
}

const FIXED_DAYS: Readonly<Record<string, number>> = { Day: 1, Week: 7, Fortnight: 14 };
const MONTHS: Readonly<Record<string, number>> = { Month: 1, 'Half-year': 6, Year: 12 };

/** `date` moved `count` periods of `type` forward (months by the calendar, so 31 January + 1 month is 3 March). */
function addPeriods(date: Date, type: string, count: number): Date {
  const next = new Date(date.getTime());
  switch (type) {
    case 'Day':
      next.setUTCDate(next.getUTCDate() + count);
      break;
    case 'Week':
      next.setUTCDate(next.getUTCDate() + 7 * count);
      break;
    case 'Fortnight':
      next.setUTCDate(next.getUTCDate() + 14 * count);
      break;
    case 'Month':
      next.setUTCMonth(next.getUTCMonth() + count);
      break;
    case 'Half-year':
      next.setUTCMonth(next.getUTCMonth() + 6 * count);
      break;
    default:
      next.setUTCFullYear(next.getUTCFullYear() + count);
  }
  return next;
}

/** The start of the UTC calendar period of `type` that contains `at`. */
function calendarStart(type: string, at: Date): Date {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  switch (type) {
    case 'Day':
      return new Date(day);
    case 'Week':
      // ISO weeks start on Monday (getUTCDay: 0 is Sunday).
      return new Date(day - ((at.getUTCDay() + 6) % 7) * 86_400_000);
    case 'Month':
      return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
    case 'Half-year':
      return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() < 6 ? 0 : 6, 1));
    default:
      return new Date(Date.UTC(at.getUTCFullYear(), 0, 1));
  }
}

/** The start of the period of a periodic limit that contains `at`. */
export function periodStart(limit: { readonly PeriodType: string; readonly PeriodAlignment: string }, consentStart: number, at: number): number {
  if (limit.PeriodAlignment === 'Calendar' && limit.PeriodType !== 'Fortnight') return calendarStart(limit.PeriodType, new Date(at)).getTime();
  const anchor = new Date(consentStart);
  const fixedDays = FIXED_DAYS[limit.PeriodType];
  // Fixed-length periods by division (a consent years old is no loop); calendar months stepped from a close guess.
  let periods = fixedDays !== undefined ? Math.max(0, Math.floor((at - consentStart) / (fixedDays * 86_400_000))) : 0;
  if (fixedDays === undefined) {
    const months = (new Date(at).getUTCFullYear() - anchor.getUTCFullYear()) * 12 + new Date(at).getUTCMonth() - anchor.getUTCMonth();
    periods = Math.max(0, Math.floor(months / (MONTHS[limit.PeriodType] ?? 12)) - 1);
  }
  while (addPeriods(anchor, limit.PeriodType, periods + 1).getTime() <= at) periods++;
  while (periods > 0 && addPeriods(anchor, limit.PeriodType, periods).getTime() > at) periods--;
  return addPeriods(anchor, limit.PeriodType, periods).getTime();
}

/**
 * Problems with the ControlParameters of a new consent that the schema does not catch (a `Path` and a message), or
 * undefined: currencies GBP, ValidToDateTime in the future and after ValidFromDateTime, no calendar fortnight.
 */
export function consentControlProblem(control: ControlParameters, now: number): { code: 'currency' | 'date' | 'field'; path: string; message: string } | undefined {
  if (control.MaximumIndividualAmount.Currency !== 'GBP') return { code: 'currency', path: `${PREFIX}.MaximumIndividualAmount.Currency`, message: 'domestic VRPs are in GBP' };
  for (const [index, limit] of control.PeriodicLimits.entries()) {
    if (limit.Currency !== 'GBP') return { code: 'currency', path: `${PREFIX}.PeriodicLimits[${index}].Currency`, message: 'domestic VRPs are in GBP' };
    if (limit.PeriodType === 'Fortnight' && limit.PeriodAlignment !== 'Consent') {
      return { code: 'field', path: `${PREFIX}.PeriodicLimits[${index}].PeriodAlignment`, message: 'a Fortnight period must be aligned with the Consent (ISO has no calendar fortnight)' };
    }
  }
  if (control.ValidToDateTime !== undefined) {
    if (Date.parse(control.ValidToDateTime) <= now) return { code: 'date', path: `${PREFIX}.ValidToDateTime`, message: 'ValidToDateTime must be in the future' };
    if (control.ValidFromDateTime !== undefined && Date.parse(control.ValidFromDateTime) >= Date.parse(control.ValidToDateTime)) {
      return { code: 'date', path: `${PREFIX}.ValidToDateTime`, message: 'ValidToDateTime must be after ValidFromDateTime' };
    }
  }
  return undefined;
}

/** Whether a payment stays within the consent's ControlParameters, given the consent's earlier counted payments. */
export function checkControlParameters(control: ControlParameters, consentStart: number, ask: VrpPaymentAsk, earlier: readonly CountedPayment[]): LimitVerdict {
  if (control.ValidFromDateTime !== undefined && Date.parse(control.ValidFromDateTime) > ask.at) {
    return { ok: false, path: `${PREFIX}.ValidFromDateTime`, message: `the consent is valid from ${control.ValidFromDateTime}` };
  }
  if (!control.VRPType.includes(ask.vrpType)) return { ok: false, path: `${PREFIX}.VRPType`, message: `VRPType ${ask.vrpType} is not one the consent allows (${control.VRPType.join(', ')})` };
  if (!control.PSUAuthenticationMethods.includes(ask.psuAuthenticationMethod)) {
    return { ok: false, path: `${PREFIX}.PSUAuthenticationMethods`, message: `PSUAuthenticationMethod ${ask.psuAuthenticationMethod} is not one the consent allows (${control.PSUAuthenticationMethods.join(', ')})` };
  }
  if (ask.psuInteractionType !== undefined && control.PSUInteractionTypes !== undefined && !control.PSUInteractionTypes.includes(ask.psuInteractionType)) {
    return { ok: false, path: `${PREFIX}.PSUInteractionTypes`, message: `PSUInteractionType ${ask.psuInteractionType} is not one the consent allows (${control.PSUInteractionTypes.join(', ')})` };
  }
  const maximum = control.MaximumIndividualAmount;
  if (ask.currency !== maximum.Currency) return { ok: false, path: `${PREFIX}.MaximumIndividualAmount.Currency`, message: `the consent's payments are in ${maximum.Currency}, not ${ask.currency}` };
  if (ask.amount > pence(maximum.Amount)) {
    return { ok: false, path: `${PREFIX}.MaximumIndividualAmount.Amount`, message: `${pounds(ask.amount)} ${ask.currency} is over the consent's MaximumIndividualAmount of ${maximum.Amount} ${maximum.Currency}` };
  }
  for (const [index, limit] of control.PeriodicLimits.entries()) {
    const start = periodStart(limit, consentStart, ask.at);
    const used = earlier.filter((payment) => payment.at >= start && payment.at <= ask.at).reduce((total, payment) => total + payment.amount, 0);
    if (used + ask.amount > pence(limit.Amount)) {
      return {
        ok: false,
        path: `${PREFIX}.PeriodicLimits[${index}].Amount`,
        message: `${pounds(ask.amount)} ${ask.currency} would bring this ${limit.PeriodType} (${limit.PeriodAlignment}-aligned, from ${new Date(start).toISOString()}) to ${pounds(used + ask.amount)}, over its limit of ${limit.Amount} ${limit.Currency}`,
      };
    }
  }
  return { ok: true };
}
