/**
 * A submitted payment's life at the UK-OB-like bank: PDNG when created, then one step per read along its life (domestic
 * payments, scheduled payments and VRPs: ACSP, ACSC; a standing order: ACTC, the order set up), or RJCT at the first
 * read when the debtor account did not cover it. The sandbox compresses time: a scheduled payment settles as it is
 * read, not on its execution date.
 */
import type { OperationRequest } from '../resource-server.js';
import { selfLink } from './operation-context.js';

export type PaymentStatus = 'PDNG' | 'ACTC' | 'ACSP' | 'ACSC' | 'RJCT';
/** The statuses after PDNG of a payment that goes through: a settled payment's, unless its type says otherwise. */
export const SETTLED_LIFE: readonly PaymentStatus[] = ['ACSP', 'ACSC'];

export interface PaymentProgress {
  readonly id: string;
  /** Whether the debtor account covered the amount when the payment was made. */
  readonly covered: boolean;
  /** The statuses after PDNG, one per read, the last one final (default `SETTLED_LIFE`). */
  readonly life?: readonly PaymentStatus[];
  status: PaymentStatus;
  statusUpdateDateTime: string;
  readonly history: Array<{ status: PaymentStatus; at: string }>;
}

/** The progress fields of a payment created at `created` (an ISO date-time). */
export function pendingSince(created: string): Pick<PaymentProgress, 'status' | 'statusUpdateDateTime' | 'history'> {
  return { status: 'PDNG', statusUpdateDateTime: created, history: [{ status: 'PDNG', at: created }] };
}

/** Moves a payment one step on (each read of it does), until it is final. */
export function advance(payment: PaymentProgress, now: string): void {
  const life = payment.life ?? SETTLED_LIFE;
  if (payment.status === 'RJCT' || payment.status === life.at(-1)) return;
  const next: PaymentStatus = !payment.covered ? 'RJCT' : life[life.indexOf(payment.status) + 1]!;
  payment.status = next;
  payment.statusUpdateDateTime = now;
  payment.history.push({ status: next, at: now });
}

/** The `payment-details` answer: every status the payment went through. `path`: the payment's own, for `Links.Self`. */
export function paymentDetailsBody(request: OperationRequest, payment: PaymentProgress, path: string) {
  return {
    Data: { PaymentStatus: payment.history.map((h, i) => ({ PaymentTransactionId: `${payment.id}-${i + 1}`, Status: h.status, StatusUpdateDateTime: h.at })) },
    Links: selfLink(request, `${path}/payment-details`),
    Meta: {},
  };
}
