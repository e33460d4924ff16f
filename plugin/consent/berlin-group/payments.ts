/**
 * Berlin Group payment authorisation (`banks.<bank>.payments.protocol: 'berlin-group'`): the caller initiates the
 * payment with the bank's own operation (`initiatePayment`) through the gateway, which adds `TPP-Redirect-URI` /
 * `TPP-Nok-Redirect-URI` pointing at its own callback (carrying the payment's `state`), then runs the payment's SCA
 * exactly like a consent's (sca.ts: redirect with confirmation, OAuth with `PIS:<paymentId>`, decoupled, embedded) and
 * reads the transaction status once it is authorised.
 */
import type { BerlinGroupPaymentsConfig } from '../config-schema.js';
import { BankgateError } from '../../errors/bankgate-error.js';
import type { PaymentProtocol, PaymentStep } from '../payment-protocol.js';
import type { ConsentContext } from '../protocol.js';
import { FINAL_TRANSACTION_STATUSES, bodyOf, linksOf, readScaAnswer, requiredString } from './messages.js';
import { continueSca, followAnswer, nextActionOf, psuHeaders, scaRequestHeaders, type ScaOutcome, type ScaSession, type ScaSettings } from './sca.js';

function configOf(context: ConsentContext): BerlinGroupPaymentsConfig {
  const payments = context.bank.payments;
  if (payments?.protocol !== 'berlin-group') throw new Error(`banks.${context.bank.name}.payments.protocol is not berlin-group`);
  return payments;
}

function settingsOf(config: BerlinGroupPaymentsConfig): ScaSettings {
  return { statusNames: config.statusNames, pollIntervalMs: config.pollIntervalMs, scaMethods: config.scaMethods };
}

function stepOf(outcome: ScaOutcome): PaymentStep {
  const session = outcome.session as unknown as Record<string, unknown>;
  if (outcome.kind === 'pending') return { outcome: 'pending', nextAction: outcome.nextAction, session, ...(outcome.oauth ? { oauth: outcome.oauth } : {}) };
  if (outcome.kind === 'failed') return { outcome: 'failed', reason: outcome.reason, session };
  return { outcome: 'authorised', session };
}

/** The payment's status link: `_links.status`, else the resource's `/status`. */
function statusPathOf(session: ScaSession & { statusLink?: string }): string {
  return session.statusLink ?? `${session.self.replace(/\/$/, '')}/status`;
}

export const berlinGroupPayments: PaymentProtocol = {
  name: 'berlin-group',

  prepare(context, input) {
    return { headers: scaRequestHeaders(context, { psu: {}, ...(input.preferredApproach ? { preferred: input.preferredApproach } : {}) }, input.state) };
  },

  async initiated(context, { request, response }) {
    const config = configOf(context);
    const bank = context.bank.name;
    const body = bodyOf(bank, response);
    const paymentId = requiredString(bank, response, body, 'paymentId');
    const links = linksOf(body);
    // Without a `self` link (SEB's initiation links only the SCA start), the resource is under the API's base URL.
    const apiPath = `/${request.params['payment-service'] ?? 'payments'}/${encodeURIComponent(request.params['payment-product'] ?? '')}/${encodeURIComponent(paymentId)}`;
    const session: ScaSession & { statusLink?: string; statusApi?: string } = {
      subject: 'payment',
      id: paymentId,
      self: links.self ?? apiPath,
      ...(links.self || links.status ? {} : { statusApi: request.api }),
      oauthScope: config.scopeTemplate.replace('{paymentId}', paymentId),
      psu: request.psu,
      ...(request.preferredApproach ? { preferred: request.preferredApproach } : {}),
      ...(links.status ? { statusLink: links.status } : {}),
    };
    const outcome = await followAnswer(context, settingsOf(config), session, readScaAnswer(bank, response, config.statusNames), request.state, false);
    const transactionStatus = typeof body.transactionStatus === 'string' ? body.transactionStatus : undefined;
    return {
      record: { protocol: 'berlin-group', api: request.api, paymentId, resourcePath: session.self, ...(transactionStatus ? { transactionStatus } : {}) },
      step: stepOf({ ...outcome, session: { ...outcome.session, ...(session.statusLink ? { statusLink: session.statusLink } : {}), ...(session.statusApi ? { statusApi: session.statusApi } : {}) } as ScaSession }),
    };
  },

  async continue(context, payment, input) {
    const config = configOf(context);
    const session = payment.session as unknown as ScaSession & { statusLink?: string; statusApi?: string };
    if (!session.id) throw new BankgateError('consent_failed', { status: 409, bank: context.bank.name, detail: 'the stored payment session is not a Berlin Group one' });
    const outcome = await continueSca(context, settingsOf(config), session, input, payment.state, payment.oauth);
    const step = stepOf({ ...outcome, session: { ...outcome.session, ...(session.statusLink ? { statusLink: session.statusLink } : {}), ...(session.statusApi ? { statusApi: session.statusApi } : {}) } as ScaSession });
    if (step.outcome === 'pending' && outcome.kind === 'pending') return { ...step, nextAction: outcome.nextAction ?? nextActionOf(outcome.session, settingsOf(config)) };
    return step;
  },

  async status(context, payment) {
    const session = payment.session as unknown as ScaSession & { statusLink?: string; statusApi?: string };
    // With the PSU's token where the bank wants it (the context acts for a connection only then).
    const read = await context.call({ method: 'GET', path: statusPathOf(session), headers: psuHeaders(session.psu ?? {}, false), ...(session.statusApi ? { api: session.statusApi } : {}), authorization: 'connection' });
    if (read.status >= 400) throw new BankgateError('bank_response_invalid', { status: 502, bank: context.bank.name, detail: `bank ${context.bank.name} answered the payment status read with HTTP ${read.status}` });
    const body = bodyOf(context.bank.name, read);
    const transactionStatus = requiredString(context.bank.name, read, body, 'transactionStatus');
    return { transactionStatus, final: FINAL_TRANSACTION_STATUSES.has(transactionStatus) };
  },
};
