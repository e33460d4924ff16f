/**
 * The UK-OB-like bank's foreign exchange for international payment orders (PISP 4.0): the currencies it sends, its
 * rates, the FX contracts it has agreed (an `Agreed` rate names one), and what it checks and answers of an Initiation's
 * `CurrencyOfTransfer`, `InstructedAmount` and `ExchangeRateInformation`. Its debtor accounts are all in GBP.
 *
 *   CurrencyOfTransfer        a currency the bank sends (RATES, or GBP): else 400 U023
 *   InstructedAmount.Currency the debtor account's (GBP) or the CurrencyOfTransfer: else 400 U023
 *   ExchangeRateInformation   UnitCurrency one of those two (U002); `Agreed`: ExchangeRate and ContractIdentification
 *                             given, the contract known to the bank, not expired, for this currency pair and unit, at
 *                             this rate (each else 400 U002 naming the field); `Actual` / `Indicative`: neither given
 *                             (the bank sets the rate: U002). Answered with the rate the bank applies: the contract's
 *                             (with its ContractIdentification and ExpirationDateTime), or the bank's rate now; absent
 *                             while the currencies differ: answered `Indicative`; both GBP: none.
 * The rates are fixed for the bank's life (a sandbox's market does not move); each bank has its own contracts (an
 * `FxDesk`), which the control plane can expire.
 */
import { OB_ERROR, obError } from './errors.js';

type Json = Readonly<Record<string, unknown>>;
export type Amount = { readonly Amount: string; readonly Currency: string };

/** The debtor accounts' currency. */
const HOME = 'GBP';

/** 1 GBP = this much of each currency the bank sends. */
const RATES: Readonly<Record<string, number>> = { EUR: 1.165, USD: 1.27, CHF: 1.12, SEK: 13.65, JPY: 190.4 };

interface FxContract {
  readonly unitCurrency: string;
  readonly currency: string;
  readonly rate: number;
  readonly expirationDateTime: string;
}

/** The FX contracts a bank starts with (any client may name them: the sandbox keeps no contract desk per TPP). */
const FX_CONTRACTS: Readonly<Record<string, FxContract>> = {
  'FX-GBPEUR-2026-0001': { unitCurrency: 'GBP', currency: 'EUR', rate: 1.1612, expirationDateTime: '2099-12-31T23:59:59+00:00' },
  'FX-GBPUSD-2026-0001': { unitCurrency: 'GBP', currency: 'USD', rate: 1.2655, expirationDateTime: '2099-12-31T23:59:59+00:00' },
  'FX-GBPEUR-2026-0002': { unitCurrency: 'GBP', currency: 'EUR', rate: 1.1608, expirationDateTime: '2099-12-31T23:59:59+00:00' },
  'FX-GBPEUR-2020-0001': { unitCurrency: 'GBP', currency: 'EUR', rate: 1.1795, expirationDateTime: '2020-06-30T16:00:00+00:00' },
};

/** One bank's FX contracts: those it starts with, each expirable on the control plane. */
export class FxDesk {
  readonly #contracts = new Map(Object.entries(FX_CONTRACTS));

  contract(id: string): FxContract | undefined {
    return this.#contracts.get(id);
  }

  /** The contract expires now (a test of a rate agreed, then expired before the order); false when there is none. */
  expireNow(id: string, now: number): boolean {
    const contract = this.#contracts.get(id);
    if (!contract) return false;
    this.#contracts.set(id, { ...contract, expirationDateTime: new Date(now).toISOString().replace(/\.\d{3}Z$/, '+00:00') });
    return true;
  }
}

/** The `ExchangeRateInformation` the bank answers in a consent and its order. */
export interface ExchangeRateTerms {
  readonly UnitCurrency: string;
  readonly ExchangeRate: number;
  readonly RateType: 'Actual' | 'Agreed' | 'Indicative';
  readonly ContractIdentification?: string;
  readonly ExpirationDateTime?: string;
}

/** The bank's rate: 1 `unit` = this much `other` (both GBP or a currency of RATES). */
function bankRate(unit: string, other: string): number {
  const perGbp = (currency: string) => (currency === HOME ? 1 : RATES[currency]!);
  return Number((perGbp(other) / perGbp(unit)).toPrecision(6));
}

/**
 * What the bank checks of an international Initiation's currencies and, when `withRate` (the types whose Initiation
 * has an `ExchangeRateInformation`), the rate it applies: a 400 naming the field, or the `Data` members it adds to the
 * consent (`ExchangeRateInformation`, or none). An Agreed rate's contract is looked up at `fx` and must not have
 * expired by `now`.
 */
export function exchangeTerms(initiation: Json, now: number, fx: FxDesk, withRate: boolean, path = 'Data.Initiation'): Response | { readonly ExchangeRateInformation?: ExchangeRateTerms } {
  const transfer = String(initiation.CurrencyOfTransfer);
  if (transfer !== HOME && RATES[transfer] === undefined) {
    return obError(400, OB_ERROR.unsupportedCurrency, `${path}.CurrencyOfTransfer ${transfer} is not a currency this bank sends (${[HOME, ...Object.keys(RATES)].join(', ')})`, `${path}.CurrencyOfTransfer`);
  }
  const instructed = (initiation.InstructedAmount as Amount).Currency;
  if (instructed !== HOME && instructed !== transfer) {
    return obError(400, OB_ERROR.unsupportedCurrency, `${path}.InstructedAmount.Currency must be the debtor account's currency (${HOME}) or the CurrencyOfTransfer (${transfer}), not ${instructed}`, `${path}.InstructedAmount.Currency`);
  }
  if (!withRate) return {};
  const asked = initiation.ExchangeRateInformation as { UnitCurrency: string; RateType: ExchangeRateTerms['RateType']; ExchangeRate?: number; ContractIdentification?: string } | undefined;
  const at = `${path}.ExchangeRateInformation`;
  if (!asked) return transfer === HOME ? {} : { ExchangeRateInformation: { UnitCurrency: HOME, ExchangeRate: bankRate(HOME, transfer), RateType: 'Indicative' } };
  if (asked.UnitCurrency !== HOME && asked.UnitCurrency !== transfer) {
    return obError(400, OB_ERROR.fieldInvalid, `${at}.UnitCurrency must be ${HOME} or the CurrencyOfTransfer (${transfer}), not ${asked.UnitCurrency}`, `${at}.UnitCurrency`);
  }
  const other = asked.UnitCurrency === HOME ? transfer : HOME;
  if (asked.RateType !== 'Agreed') {
    const given = (['ExchangeRate', 'ContractIdentification'] as const).find((name) => asked[name] !== undefined);
    if (given) return obError(400, OB_ERROR.fieldInvalid, `${at}.${given} is for an Agreed rate; with RateType ${asked.RateType} the bank sets the rate: leave it out`, `${at}.${given}`);
    return { ExchangeRateInformation: { UnitCurrency: asked.UnitCurrency, ExchangeRate: bankRate(asked.UnitCurrency, other), RateType: asked.RateType } };
  }
  for (const name of ['ContractIdentification', 'ExchangeRate'] as const) {
    if (asked[name] === undefined) return obError(400, OB_ERROR.fieldInvalid, `${at}.${name} is required with RateType Agreed: the rate and the FX contract agreed with the bank`, `${at}.${name}`);
  }
  const id = String(asked.ContractIdentification);
  const contract = fx.contract(id);
  if (!contract) return obError(400, OB_ERROR.fieldInvalid, `${at}.ContractIdentification ${id} is not an FX contract agreed with this bank`, `${at}.ContractIdentification`);
  if (Date.parse(contract.expirationDateTime) <= now) {
    return obError(400, OB_ERROR.fieldInvalid, `${at}.ContractIdentification ${id} expired at ${contract.expirationDateTime}: agree a new rate with the bank`, `${at}.ContractIdentification`);
  }
  if (contract.unitCurrency !== asked.UnitCurrency || contract.currency !== other) {
    return obError(400, OB_ERROR.fieldInvalid, `${at}.ContractIdentification ${id} is for 1 ${contract.unitCurrency} in ${contract.currency}, not 1 ${asked.UnitCurrency} in ${other}`, `${at}.ContractIdentification`);
  }
  if (asked.ExchangeRate !== contract.rate) {
    return obError(400, OB_ERROR.fieldInvalid, `${at}.ExchangeRate ${asked.ExchangeRate} is not the rate of contract ${id} (${contract.rate})`, `${at}.ExchangeRate`);
  }
  return { ExchangeRateInformation: { UnitCurrency: contract.unitCurrency, ExchangeRate: contract.rate, RateType: 'Agreed', ContractIdentification: id, ExpirationDateTime: contract.expirationDateTime } };
}

/** An amount in pence of GBP: as it is, or converted at the rate the bank applies (`terms`), else at its own rate. */
export function gbpPence(amount: Amount, terms?: ExchangeRateTerms): number {
  const value = Number(amount.Amount);
  if (amount.Currency === HOME) return Math.round(value * 100);
  const rate = terms ? (terms.UnitCurrency === HOME ? terms.ExchangeRate : 1 / terms.ExchangeRate) : bankRate(HOME, amount.Currency);
  return Math.round((value / rate) * 100);
}
