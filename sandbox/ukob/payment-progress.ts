/**
 * A submitted payment's life at the UK-OB-like bank, the same for domestic payments and VRPs: PDNG when created, then
 * one step per read (ACSP, ACSC), or RJCT at the first read when the debtor account did not cover it.
 */
import type { OperationRequest } from '../resource-server.js';
import { selfLink } from './operation-context.js';

export type PaymentStatus = 'PDNG' | 'ACSP' | 'ACSC' | 'RJCT';
const FINAL: ReadonlySet<PaymentStatus> = new Set(['ACSC', 'RJCT']);

export interface PaymentProgress {
  readonly id: string;
  /** Whether the debtor account covered the amount when the payment was made. */
  readonly covered: boolean;
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
  if (FINAL.has(payment.status)) return;
  const next: PaymentStatus = !payment.covered ? 'RJCT' : payment.status === 'PDNG' ? 'ACSP' : 'ACSC';
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
