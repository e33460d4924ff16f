/**
 * The SEB-like bank's payment signing, as SEB's Postman collection describes it (PSD2 Payment Initiation v7):
 * a payment is RCVD with `scaMethods` and a `startAuthorisationWithAuthenticationMethodSelection` link; the TPP
 * `POST …/authorisations {"authenticationMethodId": …}` and polls `GET …/authorisations/{authorisationId}` until
 * `scaStatus` is `finalized` (SEB's spelling) or `failed`:
 *   mobiltbankid  decoupled: the PSU signs in the Mobile BankID app (`psuMessage` "Öppna Mobilt BankID app"); the
 *                 sandbox signs by itself after a delay ("all signings are mocked and processed automatically"),
 *                 or at once through the control plane (`POST /__sandbox/seb/authorisations/<id>/approve|reject`);
 *   digipass      redirect: the PSU signs with its Digipass code at the `scaRedirect` page (`/pss?authorisationId=…`
 *                 on the bank's web host) and is sent back to TPP-Redirect-URI.
 * A failed signing leaves the payment RCVD (it can be signed again); a finalized one executes it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ControlExtension } from '../control-server.js';
import { escapeHtml, page, readForm } from '../interactions.js';

export type SebScaStatus = 'started' | 'finalized' | 'failed';

export interface SebScaMethod {
  readonly authenticationMethodId: 'mobiltbankid' | 'digipass';
  readonly authenticationType: string;
  readonly name: string;
  readonly explanation: string;
}

export const MOBILT_BANKID: SebScaMethod = {
  authenticationMethodId: 'mobiltbankid',
  authenticationType: 'PUSH_OTP',
  name: 'Mobilt BankID',
  explanation: 'Sign in the Mobile BankID app',
};
export const DIGIPASS: SebScaMethod = {
  authenticationMethodId: 'digipass',
  authenticationType: 'CHIP_OTP',
  name: 'Digipass',
  explanation: 'Sign with a code from the Digipass at the bank',
};
/** The Digipass code every sandbox PSU's device shows. */
export const SEB_DIGIPASS_CODE = '123456';

export interface SebSigning {
  readonly authorisationId: string;
  readonly paymentId: string;
  readonly psuId: string;
  readonly method: SebScaMethod;
  scaStatus: SebScaStatus;
  readonly redirectUri: string | undefined;
  readonly signAt: number | undefined;
  readonly expiresAt: number;
}

export interface SebSigningTimings {
  /** Mobile BankID signs by itself after this long; 0 never (control plane only). */
  readonly mobileBankIdMs: number;
  /** An unsigned signing fails after this long. */
  readonly timeoutMs: number;
}

export const DEFAULT_SEB_SIGNING_TIMINGS: SebSigningTimings = { mobileBankIdMs: 3_000, timeoutMs: 180_000 };

const PAGE = '/pss';

export class SebSignings {
  readonly #signings = new Map<string, SebSigning>();

  constructor(
    /** The bank's web host (the authorization server's front host): the Digipass page. */
    private readonly webOrigin: string,
    /** A finalized signing executes its payment. */
    private readonly onFinalized: (signing: SebSigning) => void,
    private readonly timings: SebSigningTimings = DEFAULT_SEB_SIGNING_TIMINGS,
  ) {}

  start(paymentId: string, psuId: string, method: SebScaMethod, redirectUri: string | undefined): SebSigning {
    const now = Date.now();
    const signing: SebSigning = {
      authorisationId: randomUUID(),
      paymentId,
      psuId,
      method,
      scaStatus: 'started',
      redirectUri,
      signAt: method === MOBILT_BANKID && this.timings.mobileBankIdMs > 0 ? now + this.timings.mobileBankIdMs : undefined,
      expiresAt: now + this.timings.timeoutMs,
    };
    this.#signings.set(signing.authorisationId, signing);
    return signing;
  }

  /** The signing with what happened meanwhile applied (Mobile BankID's automatic signature, a timeout). */
  get(authorisationId: string | undefined): SebSigning | undefined {
    const signing = authorisationId ? this.#signings.get(authorisationId) : undefined;
    if (signing?.scaStatus === 'started') {
      const now = Date.now();
      if (signing.signAt !== undefined && now >= signing.signAt) this.#finish(signing, 'finalized');
      else if (now >= signing.expiresAt) this.#finish(signing, 'failed');
    }
    return signing;
  }

  of(paymentId: string): SebSigning[] {
    return [...this.#signings.values()].filter((s) => s.paymentId === paymentId).map((s) => this.get(s.authorisationId)!);
  }

  /** The answer SEB gives for a signing (start and read). */
  view(signing: SebSigning, paymentPath: string): Record<string, unknown> {
    const self = `${paymentPath}/authorisations/${signing.authorisationId}`;
    const waiting = signing.scaStatus === 'started';
    return {
      authorisationId: signing.authorisationId,
      scaStatus: signing.scaStatus,
      chosenScaMethod: signing.method,
      paymentIds: [signing.paymentId],
      ...(waiting && signing.method === MOBILT_BANKID ? { psuMessage: 'Öppna Mobilt BankID app' } : {}),
      _links: {
        self: { href: self },
        ...(waiting && signing.method === DIGIPASS ? { scaRedirect: { href: `${this.webOrigin}${PAGE}?authorisationId=${signing.authorisationId}` } } : {}),
        ...(waiting ? {} : { status: { href: `${paymentPath}/status` } }),
      },
    };
  }

  /** The Digipass page; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'https://bank');
    if (url.pathname !== PAGE) return false;
    this.#page(req, res, url.searchParams.get('authorisationId') ?? '').catch((error: unknown) => {
      if (!res.headersSent) page(res, 500, 'Error', `<p>${escapeHtml(error instanceof Error ? error.message : String(error))}</p>`);
    });
    return true;
  }

  /** Control routes: the PSU's Mobile BankID app. */
  control(): ControlExtension {
    const routes = ['POST /__sandbox/seb/authorisations/<id>/approve|reject'];
    return {
      prefix: '/__sandbox/seb',
      routes,
      handle: (req, res, url) => {
        const [, , , kind, id, action] = url.pathname.split('/');
        const send = (status: number, body: unknown) => {
          res.statusCode = status;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(body));
        };
        if (req.method !== 'POST' || kind !== 'authorisations' || !id || (action !== 'approve' && action !== 'reject')) {
          return send(404, { error: `no ${req.method} ${url.pathname}`, routes });
        }
        const signing = this.get(id);
        if (!signing) return send(404, { error: `no authorisation ${id}` });
        if (signing.method !== MOBILT_BANKID || signing.scaStatus !== 'started') {
          return send(409, { error: `authorisation ${id} is not waiting in the Mobile BankID app (${signing.method.authenticationMethodId}, ${signing.scaStatus})` });
        }
        this.#finish(signing, action === 'approve' ? 'finalized' : 'failed');
        send(200, { scaStatus: signing.scaStatus });
      },
    };
  }

  #finish(signing: SebSigning, status: 'finalized' | 'failed'): void {
    signing.scaStatus = status;
    if (status === 'finalized') this.onFinalized(signing);
  }

  async #page(req: IncomingMessage, res: ServerResponse, authorisationId: string): Promise<void> {
    const signing = this.get(authorisationId);
    if (!signing || signing.method !== DIGIPASS) return page(res, 404, 'Unknown signing', '<h1>Unknown signing</h1>');
    if (signing.scaStatus !== 'started') return page(res, 409, 'Signing done', '<h1>This signing is finished or expired</h1>');
    const action = `${PAGE}?authorisationId=${encodeURIComponent(authorisationId)}`;
    const form = (error = '') =>
      page(
        res,
        error ? 401 : 200,
        'SEB-like bank: sign the payment',
        `<h1>SEB-like bank sandbox</h1>${error ? `<p style="color:#b00">${escapeHtml(error)}</p>` : ''}` +
          `<form method="post" action="${escapeHtml(action)}"><p><label>Identity number <input name="psu_id"></label> ` +
          `<label>Digipass code <input name="otp"></label></p>` +
          `<button name="decision" value="approve">Sign</button> <button name="decision" value="deny">Cancel</button></form>`,
      );
    if (req.method === 'GET') return form();
    const fields = await readForm(req);
    if (fields.get('decision') === 'deny') {
      this.#finish(signing, 'failed');
    } else {
      if (fields.get('psu_id') !== signing.psuId || fields.get('otp') !== SEB_DIGIPASS_CODE) return form('wrong identity number or Digipass code');
      this.#finish(signing, 'finalized');
    }
    res.statusCode = 303;
    res.setHeader('location', signing.redirectUri!);
    res.setHeader('cache-control', 'no-store');
    res.end();
  }
}
