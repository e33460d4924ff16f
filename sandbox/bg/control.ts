/**
 * The bg bank's control routes on the sandbox control plane, for tests and `npm run connect`: what the PSU does at
 * the bank outside the TPP's view (its app, its online banking), and the bank's clock.
 *
 *   GET  /__sandbox/bg                                   these routes, the sandbox PSUs, the clock offset
 *   POST /__sandbox/bg/authorisations/<id>/approve       the PSU approves a decoupled SCA in its app
 *   POST /__sandbox/bg/authorisations/<id>/reject        … or rejects it
 *   POST /__sandbox/bg/consents/<id>/revoke              the PSU revokes a valid consent (→ revokedByPsu)
 *   POST /__sandbox/bg/consents/<id>/expire              the consent expires now (→ expired)
 *   GET  /__sandbox/bg/consents/<id>                     the consent as the bank holds it (status, PSU, usage)
 *   GET  /__sandbox/bg/payments/<id>                     the payment as the bank holds it
 *   POST /__sandbox/bg/clock  {"advanceSeconds": n}      moves the bank's clock forward
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ControlExtension } from '../control-server.js';
import type { BgBank } from './bank.js';
import { BgError } from './errors.js';
import { BG_PSUS, SANDBOX_OTP, SANDBOX_PASSWORD } from './psus.js';

const ROUTES = [
  'GET /__sandbox/bg',
  'POST /__sandbox/bg/authorisations/<id>/approve|reject',
  'POST /__sandbox/bg/consents/<id>/revoke|expire',
  'GET /__sandbox/bg/consents/<id>',
  'GET /__sandbox/bg/payments/<id>',
  'POST /__sandbox/bg/clock {"advanceSeconds":n}',
];

function send(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  if (text.trim() === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BgError(400, 'FORMAT_ERROR', 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

export function createBgControl(bank: BgBank): ControlExtension {
  const consentState = (id: string) => {
    const consent = bank.consents.get(id);
    if (!consent) throw new BgError(404, 'CONSENT_UNKNOWN', `no consent ${id}`);
    consent.settle();
    bank.sca.settle(consent);
    return {
      consentId: consent.id,
      tppId: consent.tppId,
      consentStatus: consent.status,
      statusReason: consent.statusReason,
      approach: consent.approach,
      oauth: consent.oauth?.kind,
      psuId: consent.psuId,
      validUntil: consent.granted.validUntil,
      frequencyPerDay: consent.granted.frequencyPerDay,
      unattendedReads: consent.usage(),
      authorisations: consent.authorisations.map((a) => ({ authorisationId: a.authorisationId, approach: a.approach, scaStatus: a.scaStatus })),
    };
  };

  async function route(req: IncomingMessage, url: URL): Promise<[number, unknown]> {
    const parts = url.pathname.split('/').filter(Boolean).slice(2); // after __sandbox/bg
    const method = req.method ?? 'GET';
    if (parts.length === 0 && method === 'GET') {
      return [200, {
        routes: ROUTES,
        clockOffsetSeconds: bank.clock.offsetSeconds,
        psus: BG_PSUS.map((psu) => ({
          psuId: psu.id,
          name: psu.name,
          password: SANDBOX_PASSWORD,
          otp: SANDBOX_OTP,
          onlineBanking: psu.onlineBanking,
          app: psu.app,
          embeddedMethods: psu.embeddedMethods.map((m) => m.authenticationMethodId),
          ibans: psu.accounts.map((a) => a.iban),
        })),
      }];
    }
    const [kind, id, action] = parts;
    if (method === 'POST' && kind === 'clock' && id === undefined) {
      const body = await readJson(req);
      bank.clock.advance(Number(body.advanceSeconds));
      return [200, { clockOffsetSeconds: bank.clock.offsetSeconds, now: new Date(bank.clock.now()).toISOString() }];
    }
    if (method === 'POST' && kind === 'authorisations' && id && (action === 'approve' || action === 'reject')) {
      return [200, bank.decideInApp(id, action)];
    }
    if (method === 'POST' && kind === 'consents' && id && action === 'revoke') return [200, consentState(bank.revokeByPsu(id).id)];
    if (method === 'POST' && kind === 'consents' && id && action === 'expire') return [200, consentState(bank.expireNow(id).id)];
    if (method === 'GET' && kind === 'consents' && id && action === undefined) return [200, consentState(id)];
    if (method === 'GET' && kind === 'payments' && id && action === undefined) {
      const payment = bank.payments.get(id);
      if (!payment) throw new BgError(404, 'RESOURCE_UNKNOWN', `no payment ${id}`);
      bank.sca.settle(payment);
      payment.settle();
      return [200, {
        paymentId: payment.id,
        transactionStatus: payment.transactionStatus,
        psuMessage: payment.psuMessage,
        approach: payment.approach,
        psuId: payment.psuId,
        authorisations: payment.authorisations.map((a) => ({ authorisationId: a.authorisationId, approach: a.approach, scaStatus: a.scaStatus })),
      }];
    }
    return [404, { error: `no ${method} ${url.pathname}`, routes: ROUTES }];
  }

  return {
    prefix: '/__sandbox/bg',
    routes: ROUTES,
    handle(req, res, url) {
      route(req, url).then(
        ([status, body]) => send(res, status, body),
        (error: unknown) => {
          if (error instanceof BgError) return send(res, error.status, { error: error.message, code: error.code });
          send(res, 400, { error: error instanceof Error ? error.message : String(error) });
        },
      );
    },
  };
}
