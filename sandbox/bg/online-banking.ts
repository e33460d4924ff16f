/**
 * The bank's web pages on the authorization server's front host, where the PSU's browser goes:
 *   GET|POST /sca/<redirectId>         the scaRedirect page: the PSU logs in (PSU id, password, TAN), sees what it
 *                                      authorises, approves or cancels; the bank then redirects to the TPP's
 *                                      TPP-Redirect-URI with `code=<confirmationCode>` (or to TPP-Nok-Redirect-URI)
 *   GET|POST /interaction/<uid>        the OAuth login (scaOAuth and the pre-step): the same form; approval grants
 *                                      the requested AIS/PIS scope and resumes the authorization request
 *   GET /.well-known/oauth-authorization-server   RFC 8414 metadata (the same document as OIDC discovery)
 * Everything else is oidc-provider's. Form fields (a browser or `headless-psu.ts` posts them):
 * `psu_id`, `password`, `otp`, `decision` (`approve` | `deny`), `account` (IBANs, repeated; bank-offered consents).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { escapeHtml, page, readForm } from '../interactions.js';
import { BANK_NAME, type BgBank } from './bank.js';
import { Consent, isBankOffered } from './consents.js';
import { BgError } from './errors.js';
import { BG_SCOPE } from './authorization-server.js';
import { BG_PSUS } from './psus.js';
import type { ScaSubject } from './sca.js';

const SCA_PATH = /^\/sca\/([A-Za-z0-9_-]+)\/?$/;
const INTERACTION_PATH = /^\/interaction\/([A-Za-z0-9_-]+)\/?$/;
const RFC8414 = '/.well-known/oauth-authorization-server';

interface LoginForm {
  readonly psuId: string;
  readonly password: string;
  readonly otp: string;
  readonly decision: 'approve' | 'deny';
  readonly selection: readonly string[] | undefined;
}

function loginForm(form: URLSearchParams): LoginForm {
  const accounts = form.getAll('account').flatMap((value) => value.split(/[\s,]+/)).filter(Boolean);
  return {
    psuId: form.get('psu_id') ?? '',
    password: form.get('password') ?? '',
    otp: form.get('otp') ?? '',
    decision: form.get('decision') === 'deny' ? 'deny' : 'approve',
    selection: accounts.length > 0 ? accounts : undefined,
  };
}

function formPage(res: ServerResponse, status: number, options: { action: string; what: readonly string[]; psuId?: string; error?: string; chooseAccounts: boolean }): void {
  const psus = BG_PSUS.map((psu) => `<code>${escapeHtml(psu.id)}</code>`).join(', ');
  page(
    res,
    status,
    `${BANK_NAME}: authorise`,
    `<h1>${escapeHtml(BANK_NAME)} sandbox</h1>` +
      (options.error ? `<p style="color:#b00">${escapeHtml(options.error)}</p>` : '') +
      `<p>You are asked to authorise:</p><ul>${options.what.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>` +
      `<form method="post" action="${escapeHtml(options.action)}">` +
      `<p><label>PSU id <input name="psu_id" value="${escapeHtml(options.psuId ?? '')}"></label> (sandbox PSUs: ${psus})</p>` +
      `<p><label>Password <input name="password" type="password"></label> <label>TAN <input name="otp" inputmode="numeric"></label></p>` +
      (options.chooseAccounts ? `<p><label>Accounts (IBANs, empty for all) <input name="account"></label></p>` : '') +
      `<button name="decision" value="approve">Authorise</button> <button name="decision" value="deny">Cancel</button></form>`,
  );
}

function redirect(res: ServerResponse, location: URL | string): void {
  res.statusCode = 303;
  res.setHeader('location', String(location));
  res.setHeader('cache-control', 'no-store');
  res.end();
}

/** A bank-offered consent: the page asks the PSU which accounts. */
function chooseAccounts(subject: ScaSubject | undefined): boolean {
  return subject instanceof Consent && isBankOffered(subject.request.access);
}

export function createOnlineBankingHandler(options: { bank: BgBank; provider: Provider; resource: string }) {
  const { bank, provider } = options;
  const callback = provider.callback();

  async function scaRedirectPage(req: IncomingMessage, res: ServerResponse, redirectId: string): Promise<void> {
    const target = bank.sca.redirectTarget(redirectId);
    if (!target) return page(res, 404, 'Unknown link', '<h1>Unknown authorisation link</h1><p>Start again from the TPP.</p>');
    const { subject } = target;
    const action = `/sca/${redirectId}`;
    if (req.method === 'GET') {
      return formPage(res, 200, { action, what: subject.describe(), psuId: subject.psuId, chooseAccounts: chooseAccounts(subject) });
    }
    const form = loginForm(await readForm(req));
    try {
      redirect(res, bank.sca.redirectLogin(redirectId, form));
    } catch (error) {
      if (!(error instanceof BgError)) throw error;
      formPage(res, error.status, { action, what: subject.describe(), psuId: form.psuId, error: error.message, chooseAccounts: chooseAccounts(subject) });
    }
  }

  async function oauthLogin(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const clientId = String(details.params.client_id);
    const requested = String(details.params.scope ?? '').split(' ').filter(Boolean);
    const scopes = requested.filter((scope) => BG_SCOPE.test(scope));
    const bound = scopes.filter((scope) => scope.includes(':'));
    const fail = (error: string, description: string) =>
      provider.interactionFinished(req, res, { error, error_description: description }, { mergeWithLastSubmission: false });
    if (scopes.length === 0) return fail('invalid_scope', 'ask for AIS:<consentId>, PIS:<paymentId>, or AIS / PIS (pre-step)');
    if (bound.length > 1) return fail('invalid_scope', 'one consent or payment per authorisation');
    const subject = bound[0] ? bank.subjectOfScope(bound[0]) : undefined;
    if (bound[0]) {
      if (!subject || subject.tppId !== clientId) return fail('invalid_scope', `${bound[0]} is unknown for this client`);
      bank.sca.settle(subject);
      if (subject.approach !== 'OAUTH' || !subject.isOpen()) return fail('invalid_request', `${bound[0]} does not await an OAuth authorisation`);
    }
    const what = subject ? subject.describe() : [`sign in to ${BANK_NAME} for ${scopes.join(' and ')} (the TPP will then ask for your consent)`];
    const action = `/interaction/${uid}`;
    if (req.method === 'GET') return formPage(res, 200, { action, what, psuId: subject?.psuId, chooseAccounts: chooseAccounts(subject) });

    const form = loginForm(await readForm(req));
    if (form.decision === 'deny') {
      if (subject) bank.sca.oauthDenied(subject, 'the PSU cancelled at the bank');
      return fail('access_denied', 'the PSU cancelled');
    }
    let psu;
    try {
      psu = bank.sca.checkLogin(subject, form);
    } catch (error) {
      if (!(error instanceof BgError)) throw error;
      return formPage(res, error.status, { action, what, psuId: form.psuId, error: error.message, chooseAccounts: chooseAccounts(subject) });
    }
    const refused = subject?.refuse(psu);
    if (subject && refused) {
      bank.sca.oauthDenied(subject, refused);
      return fail('access_denied', refused);
    }
    const grant = new provider.Grant({ accountId: psu.id, clientId });
    grant.addResourceScope(options.resource, scopes.join(' '));
    if (requested.includes('openid')) grant.addOIDCScope('openid');
    const grantId = await grant.save();
    if (subject) {
      subject.grantIds.add(grantId);
      bank.sca.oauthApproved(subject, psu, form.selection);
    }
    await provider.interactionFinished(req, res, { login: { accountId: psu.id, amr: ['pwd', 'otp'] }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  return function handleOnlineBankingRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'https://bank').pathname;
    // RFC 8414 metadata is the discovery document of this issuer (the issuer has no path).
    if (path === RFC8414) req.url = '/.well-known/openid-configuration';
    const sca = SCA_PATH.exec(path);
    const interaction = INTERACTION_PATH.exec(path);
    if (!sca && !interaction) return void callback(req, res);
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.statusCode = 405;
      res.setHeader('allow', 'GET, POST');
      return void res.end();
    }
    const handled = sca ? scaRedirectPage(req, res, sca[1]!) : oauthLogin(req, res, interaction![1]!);
    handled.catch((error: unknown) => {
      // Typically SessionNotFound: the interaction cookie is missing or the interaction expired.
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) page(res, 400, 'Authorisation failed', `<h1>Authorisation failed</h1><p>${escapeHtml(message)}. Start again from the TPP.</p>`);
      else res.end();
    });
  };
}
