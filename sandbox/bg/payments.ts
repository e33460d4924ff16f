/**
 * A payment initiation (`POST /v1/{payment-service}/{payment-product}`) and its ISO 20022 transaction status:
 * RCVD until the PSU's SCA; then RJCT (SCA failed, debtor account not the PSU's, currency or funds), or executed:
 * instant credit transfers ACSC at once, others ACSP then ACSC once settled, future-dated ones ACTC until their
 * requested execution date, standing orders (periodic-payments) ACSP. CANC after a cancellation.
 */
import { BgError } from './errors.js';
import type { BankClock } from './clock.js';
import type { BgPsu } from './psus.js';
import type { Authorisation, ScaApproach, ScaSubject } from './sca.js';

export type TransactionStatus = 'RCVD' | 'ACTC' | 'ACSP' | 'ACSC' | 'RJCT' | 'CANC';

export const PAYMENT_SERVICES = ['payments', 'periodic-payments'] as const;
export type PaymentService = (typeof PAYMENT_SERVICES)[number];
/** The JSON products this bank offers (the pain.001 XML variants are not offered). */
export const PAYMENT_PRODUCTS = ['sepa-credit-transfers', 'instant-sepa-credit-transfers', 'target-2-payments', 'cross-border-credit-transfers'] as const;

export interface PaymentInitiation {
  readonly debtorAccount: { iban?: string; currency?: string };
  readonly instructedAmount: { currency: string; amount: string };
  readonly creditorAccount: { iban?: string };
  readonly creditorName: string;
  readonly requestedExecutionDate?: string;
  readonly startDate?: string;
  readonly frequency?: string;
  readonly [field: string]: unknown;
}

export class Payment implements ScaSubject {
  readonly kind = 'payment' as const;
  readonly authorisations: Authorisation[] = [];
  readonly oauthScope: string;
  readonly selfPath: string;
  readonly statusPath: string;
  readonly authorisationsPath: string;
  transactionStatus: TransactionStatus = 'RCVD';
  /** Why it was rejected, for the status's psuMessage. */
  psuMessage: string | undefined;
  fundsAvailable: boolean | undefined;
  psuId: string | undefined;
  /** ACSP → ACSC at this bank time. */
  #settleAt: number | undefined;
  readonly grantIds = new Set<string>();

  constructor(
    readonly id: string,
    readonly tppId: string,
    readonly service: PaymentService,
    readonly product: string,
    readonly initiation: PaymentInitiation,
    readonly approach: ScaApproach,
    readonly redirectUris: { readonly ok: string | undefined; readonly nok: string | undefined },
    private readonly clock: BankClock,
    private readonly settlementMs: number,
    basePath: string,
  ) {
    this.oauthScope = `PIS:${id}`;
    this.selfPath = `${basePath}/v1/${service}/${product}/${id}`;
    this.statusPath = `${this.selfPath}/status`;
    this.authorisationsPath = `${this.selfPath}/authorisations`;
  }

  isOpen(): boolean {
    return this.transactionStatus === 'RCVD';
  }

  refuse(psu: BgPsu): string | undefined {
    return psu.accounts.some((a) => a.iban === this.initiation.debtorAccount.iban) ? undefined : 'the debtor account is not an account of this PSU';
  }

  /** SCA succeeded: the bank checks the debtor account and funds, then executes or schedules the payment. */
  complete(psu: BgPsu): void {
    this.psuId = psu.id;
    const debtor = psu.accounts.find((a) => a.iban === this.initiation.debtorAccount.iban);
    const { amount, currency } = this.initiation.instructedAmount;
    if (!debtor) return this.#reject('the debtor account is not an account of this PSU');
    if (currency !== debtor.currency && this.product !== 'cross-border-credit-transfers') {
      return this.#reject(`the debtor account is held in ${debtor.currency}, not ${currency}`);
    }
    this.fundsAvailable = Number(amount) <= Number(debtor.available);
    if (!this.fundsAvailable) return this.#reject('insufficient funds on the debtor account');
    const today = this.clock.today();
    if (this.service === 'periodic-payments') this.transactionStatus = 'ACSP';
    else if (this.initiation.requestedExecutionDate && this.initiation.requestedExecutionDate > today) this.transactionStatus = 'ACTC';
    else if (this.product === 'instant-sepa-credit-transfers') this.transactionStatus = 'ACSC';
    else {
      this.transactionStatus = 'ACSP';
      this.#settleAt = this.clock.now() + this.settlementMs;
    }
  }

  fail(reason: string): void {
    this.#reject(reason);
  }

  /** Applies the passing of time: settlement, and the execution of a future-dated payment on its date. */
  settle(): void {
    if (this.transactionStatus === 'ACSP' && this.#settleAt !== undefined && this.clock.now() >= this.#settleAt) this.transactionStatus = 'ACSC';
    if (this.transactionStatus === 'ACTC' && this.clock.today() >= (this.initiation.requestedExecutionDate ?? '')) this.transactionStatus = 'ACSC';
  }

  /**
   * `DELETE`: a payment not yet authorised, a future-dated one or a standing order is cancelled (CANC, 204);
   * an executed one or an instant payment cannot be (405 CANCELLATION_INVALID).
   */
  cancel(): void {
    this.settle();
    const cancellable =
      this.transactionStatus === 'RCVD' ||
      this.transactionStatus === 'ACTC' ||
      (this.service === 'periodic-payments' && this.transactionStatus === 'ACSP');
    if (!cancellable || this.product === 'instant-sepa-credit-transfers') {
      throw new BgError(405, 'CANCELLATION_INVALID', `a payment in status ${this.transactionStatus} (${this.product}) cannot be cancelled`);
    }
    this.transactionStatus = 'CANC';
  }

  describe(): string[] {
    const { amount, currency } = this.initiation.instructedAmount;
    const what = this.service === 'periodic-payments' ? `standing order of ${amount} ${currency} (${this.initiation.frequency})` : `payment of ${amount} ${currency}`;
    return [`${what} to ${this.initiation.creditorName}`, `from ${this.initiation.debtorAccount.iban} to ${this.initiation.creditorAccount.iban}`];
  }

  #reject(reason: string): void {
    this.transactionStatus = 'RJCT';
    this.psuMessage = reason;
  }
}
