/**
 * The SG-like bank's payment requests and their approval by the PSU, as STET (1.4.2 / 1.5) describes the REDIRECT
 * approach: the PISP creates the payment request (`paymentInformationStatus` RCVD) and sends the PSU to
 * `_links.consentApproval`, a page of the bank (the authorization server's front host, not the mTLS API host);
 * the PSU logs in, picks the debtor account when the request names none, and approves or refuses; the bank then
 * redirects the PSU's browser to the request's `supplementaryData.successfulReportUrl` (approved and accepted:
 * ACSP, settled ACSC a moment later) or `unsuccessfulReportUrl` (refused, or rejected: RJCT; the successful one when
 * the PISP gave no unsuccessful one, as STET says).
 *
 *   GET|POST /consent-approval/<paymentRequestResourceId>   form fields: psu_id, decision (approve|deny), account (IBAN)
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { findPsu, SG_PSUS } from '../data.js';
import { escapeHtml, page, readForm } from '../interactions.js';

export type SgPaymentStatus = 'RCVD' | 'ACSP' | 'ACSC' | 'RJCT';

export interface StoredPaymentRequest {
  readonly resourceId: string;
  readonly clientId: string;
  readonly request: Record<string, unknown>;
  status: SgPaymentStatus;
  /** The PSU who approved or refused it. */
  psuId: string | undefined;
  /** Why it was rejected. */
  reason: string | undefined;
  readonly linkExpiresAt: number;
  settledAt: number | undefined;
}

/** How long the consentApproval link works, and how long ACSP takes to become ACSC. */
export interface SgPaymentTimings {
  readonly approvalLinkTtlMs: number;
  readonly settlementMs: number;
}

export const DEFAULT_SG_PAYMENT_TIMINGS: SgPaymentTimings = { approvalLinkTtlMs: 600_000, settlementMs: 2_000 };

const PATH = /^\/consent-approval\/([A-Za-z0-9-]+)\/?$/;

function instructedTotal(request: Record<string, unknown>): { amount: number; currency: string } {
  const transactions = (request.creditTransferTransaction as Array<{ instructedAmount?: { amount?: string; currency?: string } }>) ?? [];
  const amount = transactions.reduce((sum, t) => sum + Number(t.instructedAmount?.amount ?? 0), 0);
  return { amount, currency: transactions[0]?.instructedAmount?.currency ?? 'EUR' };
}

export class SgPaymentRequests {
  readonly #requests = new Map<string, StoredPaymentRequest>();

  constructor(
    /** The bank's web origin (the authorization server's front host), where consentApproval points. */
    private readonly approvalOrigin: string,
    private readonly timings: SgPaymentTimings = DEFAULT_SG_PAYMENT_TIMINGS,
  ) {}

  create(clientId: string, request: Record<string, unknown>): StoredPaymentRequest {
    const stored: StoredPaymentRequest = {
      resourceId: randomUUID(),
      clientId,
      request,
      status: 'RCVD',
      psuId: undefined,
      reason: undefined,
      linkExpiresAt: Date.now() + this.timings.approvalLinkTtlMs,
      settledAt: undefined,
    };
    this.#requests.set(stored.resourceId, stored);
    return stored;
  }

  consentApprovalUrl(stored: StoredPaymentRequest): string {
    return `${this.approvalOrigin}/consent-approval/${stored.resourceId}`;
  }

  /** The request, with settlement applied (ACSP → ACSC once settled). */
  get(resourceId: string | undefined): StoredPaymentRequest | undefined {
    const stored = resourceId ? this.#requests.get(resourceId) : undefined;
    if (stored?.status === 'ACSP' && stored.settledAt !== undefined && Date.now() >= stored.settledAt) stored.status = 'ACSC';
    return stored;
  }

  /** The PSU's decision at the bank; returns the report URL the bank redirects to. */
  decide(stored: StoredPaymentRequest, psuId: string, decision: 'approve' | 'deny', debtorIban: string | undefined): string {
    const supplementary = stored.request.supplementaryData as { successfulReportUrl: string; unsuccessfulReportUrl?: string };
    const failure = supplementary.unsuccessfulReportUrl ?? supplementary.successfulReportUrl;
    stored.psuId = psuId;
    const reject = (reason: string) => {
      stored.status = 'RJCT';
      stored.reason = reason;
      return failure;
    };
    if (decision === 'deny') return reject('the PSU refused the payment at the bank');
    const psu = findPsu(SG_PSUS, psuId)!;
    const named = (stored.request.debtorAccount as { iban?: string } | undefined)?.iban;
    const debtor = psu.accounts.find((a) => a.iban === (named ?? debtorIban ?? psu.accounts[0]?.iban));
    if (!debtor) return reject(named ? 'the debtor account is not an account of this PSU' : 'the PSU chose no account of theirs');
    const total = instructedTotal(stored.request);
    if (total.currency !== debtor.currency || total.amount > Number(debtor.available)) return reject('insufficient funds on the debtor account');
    stored.status = 'ACSP';
    stored.settledAt = Date.now() + this.timings.settlementMs;
    return supplementary.successfulReportUrl;
  }

  /** The bank's consentApproval page; false for any other path (the caller hands the request on). */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const match = PATH.exec(new URL(req.url ?? '/', 'https://bank').pathname);
    if (!match) return false;
    this.#page(req, res, match[1]!).catch((error: unknown) => {
      if (!res.headersSent) page(res, 500, 'Error', `<p>${escapeHtml(error instanceof Error ? error.message : String(error))}</p>`);
    });
    return true;
  }

  async #page(req: IncomingMessage, res: ServerResponse, resourceId: string): Promise<void> {
    const stored = this.#requests.get(resourceId);
    if (!stored) return page(res, 404, 'Unknown payment request', '<h1>Unknown payment request</h1>');
    if (stored.status !== 'RCVD' || Date.now() > stored.linkExpiresAt) {
      return page(res, 409, 'Payment request processed', '<h1>This payment request was already processed or the link expired</h1>');
    }
    const total = instructedTotal(stored.request);
    const describe = `<p>Payment of ${total.amount.toFixed(2)} ${escapeHtml(total.currency)} initiated by ${escapeHtml(String((stored.request.initiatingParty as { name?: string })?.name ?? 'a PISP'))}.</p>`;
    if (req.method === 'GET') {
      const psus = SG_PSUS.map((psu) => `<option value="${escapeHtml(psu.id)}">${escapeHtml(psu.id)}: ${escapeHtml(psu.name)}</option>`).join('');
      return page(
        res,
        200,
        'SG-like bank: approve the payment',
        `<h1>SG-like bank sandbox</h1>${describe}<form method="post" action="/consent-approval/${escapeHtml(resourceId)}">` +
          `<p><label>Sandbox PSU <select name="psu_id">${psus}</select></label></p>` +
          `<p><label>Debtor account (IBAN, empty for your first) <input name="account"></label></p>` +
          `<button name="decision" value="approve">Approve</button> <button name="decision" value="deny">Refuse</button></form>`,
      );
    }
    if (req.method !== 'POST') {
      res.statusCode = 405;
      res.setHeader('allow', 'GET, POST');
      return void res.end();
    }
    const form = await readForm(req);
    const psuId = form.get('psu_id') ?? '';
    if (!findPsu(SG_PSUS, psuId)) {
      return page(res, 400, 'Unknown sandbox PSU', `<h1>Unknown sandbox PSU</h1><p>Valid ids: ${SG_PSUS.map((p) => `<code>${escapeHtml(p.id)}</code>`).join(', ')}.</p>`);
    }
    const decision = form.get('decision') === 'deny' ? 'deny' : 'approve';
    const location = this.decide(stored, psuId, decision, form.get('account') || undefined);
    res.statusCode = 303;
    res.setHeader('location', location);
    res.setHeader('cache-control', 'no-store');
    res.end();
  }
}
