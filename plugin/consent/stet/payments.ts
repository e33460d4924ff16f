/**
 * STET payment authorisation (`banks.<bank>.payments.protocol: 'stet'`, the SG-like bank): the PISP's payment request
 * names where the bank sends the PSU after approving (`supplementaryData.successfulReportUrl` /
 * `unsuccessfulReportUrl`). The gateway puts its own callback there (carrying the payment's `state`), answers the
 * caller with `nextAction: redirect` to the bank's `_links.consentApproval`, and when the PSU is back reads the
 * payment request's `paymentInformationStatus` (ACSP, ACSC: authorised; RJCT: refused or rejected).
 */
import type { StetPaymentsConfig } from '../config-schema.js';
import { BankgateError } from '../../errors/bankgate-error.js';
import { FINAL_TRANSACTION_STATUSES, bodyOf, linksOf } from '../berlin-group/messages.js';
import type { PaymentProtocol } from '../payment-protocol.js';
import type { ConsentContext } from '../protocol.js';

function configOf(context: ConsentContext): StetPaymentsConfig {
  const payments = context.bank.payments;
  if (payments?.protocol !== 'stet') throw new Error(`banks.${context.bank.name}.payments.protocol is not stet`);
  return payments;
}

/** The gateway's callback for this payment: `ok` and `nok` report URLs. */
function reportUrl(context: ConsentContext, state: string, outcome: 'ok' | 'nok'): string {
  const url = new URL(context.callbackUrl);
  url.searchParams.set('state', state);
  url.searchParams.set('outcome', outcome);
  return url.href;
}

const AUTHORISED = new Set(['ACSP', 'ACSC', 'ACCC', 'ACTC', 'ACWC', 'ACCP']);

export const stetPayments: PaymentProtocol = {
  name: 'stet',

  prepare(context, input) {
    const body = input.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new BankgateError('bad_request', { status: 400, bank: context.bank.name, detail: 'send the payment request as a JSON object' });
    }
    const request = body as Record<string, unknown>;
    const supplementary = (request.supplementaryData && typeof request.supplementaryData === 'object' ? request.supplementaryData : {}) as Record<string, unknown>;
    return {
      headers: {},
      // The bank reports to the gateway; the caller's report URLs are where the PSU goes after it.
      body: { ...request, supplementaryData: { ...supplementary, successfulReportUrl: reportUrl(context, input.state, 'ok'), unsuccessfulReportUrl: reportUrl(context, input.state, 'nok') } },
      ...(typeof supplementary.successfulReportUrl === 'string' ? { returnTo: supplementary.successfulReportUrl } : {}),
      ...(typeof supplementary.unsuccessfulReportUrl === 'string' ? { nokReturnTo: supplementary.unsuccessfulReportUrl } : {}),
    };
  },

  async initiated(context, { request, response }) {
    const bank = context.bank.name;
    const body = bodyOf(bank, response);
    const location = response.headers.location;
    const href = Array.isArray(location) ? location[0] : location;
    const paymentId = href ? decodeURIComponent(new URL(href, 'https://bank.invalid').pathname.split('/').pop() ?? '') : '';
    if (!paymentId) throw new BankgateError('bank_response_invalid', { status: 502, bank, detail: `bank ${bank} answered ${response.operationId} without a Location naming the payment request` });
    const approval = linksOf(body).consentApproval;
    const resourcePath = `/payment-requests/${encodeURIComponent(paymentId)}`;
    const session = { resourcePath, api: request.api };
    if (!approval) return { record: { protocol: 'stet', api: request.api, paymentId, resourcePath }, step: { outcome: 'authorised', session } };
    return { record: { protocol: 'stet', api: request.api, paymentId, resourcePath }, step: { outcome: 'pending', nextAction: { type: 'redirect', url: approval }, session } };
  },

  async continue(context, payment, input) {
    if (input.kind !== 'callback') throw new BankgateError('bad_request', { status: 409, bank: context.bank.name, detail: 'this payment waits for the PSU at the bank (a redirect)' });
    const status = await this.status(context, payment);
    if (AUTHORISED.has(status.transactionStatus)) return { outcome: 'authorised', session: payment.session, transactionStatus: status.transactionStatus };
    if (status.transactionStatus === 'RJCT' || status.transactionStatus === 'CANC' || input.url.searchParams.get('outcome') === 'nok') {
      return { outcome: 'failed', session: payment.session, transactionStatus: status.transactionStatus, reason: { code: 'payment_rejected', detail: `the bank says ${status.transactionStatus}: refused by the PSU or rejected` } };
    }
    return { outcome: 'pending', session: payment.session, nextAction: { type: 'decoupled', pollAfterMs: Math.max(configOf(context).pollIntervalMs, 1000) } };
  },

  async status(context, payment) {
    const config = configOf(context);
    const read = await context.call({ method: 'GET', api: payment.api, path: payment.resourcePath, authorization: 'client-credentials' });
    if (read.status >= 400 || read.operationId !== config.statusOperation) {
      throw new BankgateError('bank_response_invalid', { status: 502, bank: context.bank.name, detail: `bank ${context.bank.name} answered the payment request read with HTTP ${read.status}` });
    }
    const request = (bodyOf(context.bank.name, read).paymentRequest ?? {}) as { paymentInformationStatus?: unknown };
    const transactionStatus = typeof request.paymentInformationStatus === 'string' ? request.paymentInformationStatus : 'RCVD';
    return { transactionStatus, final: FINAL_TRANSACTION_STATUSES.has(transactionStatus) };
  },
};
