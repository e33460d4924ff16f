/**
 * The UK-OB-like bank's PSU interaction: the PSU signs in, sees the intent the TPP staged, and approves it (choosing
 * the accounts for account access, the debtor account for a payment that names none) or rejects it.
 *
 *   GET  /interaction/:uid   an HTML page with the intent and the form (for a browser)
 *   POST /interaction/:uid   psu_id=<id> [accounts=<AccountId>,…] [debtor_account=<AccountId>] [decision=approve|reject]
 *                            → 303 to the authorization resume URL
 *
 * The intent is looked up again here, on the page and on the approval (it may have changed since PAR): an unknown
 * one, another client's, or one not AWAU ends the authorization with `access_denied`. Approval marks it AUTH and binds it to the grant the tokens will
 * belong to; rejection marks it RJCT and ends with `access_denied`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { escapeHtml, page, readForm } from '../interactions.js';
import { INTENT_CLAIM, requestedIntentId, UKOB_ACR_VALUES } from './authorization-server.js';
import { findUkobPsu, sortCodeAccountNumber, UKOB_PSUS, type UkobAccount, type UkobPsu } from './data.js';
import type { DomesticVrpIntent, FundsConfirmationIntent, Intent, IntentStore, PaymentOrderIntent } from './intents.js';

const PATH = /^\/interaction\/([A-Za-z0-9_-]+)\/?$/;

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

function requestedClaims(claimsParameter: unknown): string[] {
  if (typeof claimsParameter !== 'string') return [];
  try {
    const parsed = JSON.parse(claimsParameter) as { id_token?: object; userinfo?: object };
    return [...new Set([...Object.keys(parsed.id_token ?? {}), ...Object.keys(parsed.userinfo ?? {})])];
  } catch {
    return [];
  }
}

/** The ACR to record: the first supported one the request asks for (claims `acr` or `acr_values`), else SCA. */
function acrFor(details: Details): string {
  const asked: string[] = String(details.params.acr_values ?? '').split(' ');
  try {
    const acr = (JSON.parse(String(details.params.claims ?? '{}')) as { id_token?: { acr?: { value?: string; values?: string[] } } }).id_token?.acr;
    if (acr?.value) asked.unshift(acr.value);
    if (acr?.values) asked.unshift(...acr.values);
  } catch {
    // oidc-provider has already refused a malformed claims parameter.
  }
  return asked.find((value) => (UKOB_ACR_VALUES as readonly string[]).includes(value)) ?? UKOB_ACR_VALUES[0];
}

function describe(intent: Intent): string {
  if (intent.kind === 'funds-confirmation') {
    return `<p>Confirmation of funds <code>${escapeHtml(intent.id)}</code> on account ${escapeHtml(intent.debtorAccount.Identification)}` +
      `${intent.expirationDateTime ? `, until ${escapeHtml(intent.expirationDateTime)}` : ''}.</p>`;
  }
  if (intent.kind === 'account-access') {
    return `<p>Account access <code>${escapeHtml(intent.id)}</code>: ${intent.permissions.map((p) => `<code>${escapeHtml(p)}</code>`).join(', ')}` +
      `${intent.expirationDateTime ? `, until ${escapeHtml(intent.expirationDateTime)}` : ''}.</p>`;
  }
  if (intent.kind === 'domestic-vrp') {
    const control = intent.data.ControlParameters as { MaximumIndividualAmount?: { Amount?: string; Currency?: string }; PeriodicLimits?: { PeriodType?: string; Amount?: string; Currency?: string }[] };
    const creditor = (intent.data.Initiation as { CreditorAccount?: { Name?: string } } | undefined)?.CreditorAccount?.Name;
    const limits = (control.PeriodicLimits ?? []).map((limit) => `${escapeHtml(String(limit.Amount))} ${escapeHtml(String(limit.Currency))} a ${escapeHtml(String(limit.PeriodType))}`).join(', ');
    return `<p>Variable recurring payments <code>${escapeHtml(intent.id)}</code>${creditor ? ` to ${escapeHtml(creditor)}` : ''}: at most ` +
      `${escapeHtml(String(control.MaximumIndividualAmount?.Amount))} ${escapeHtml(String(control.MaximumIndividualAmount?.Currency))} each, ${limits}` +
      `${intent.expirationDateTime ? `, until ${escapeHtml(intent.expirationDateTime)}` : ''}.</p>`;
  }
  if (intent.kind === 'domestic-standing-order' || intent.kind === 'international-standing-order') {
    type Amount = { Amount?: string; Currency?: string };
    const order = intent.data.Initiation as { FirstPaymentAmount?: Amount; InstructedAmount?: Amount; CreditorAccount?: { Name?: string }; MandateRelatedInformation?: { Frequency?: { Type?: string }; FirstPaymentDateTime?: string } };
    const mandate = order.MandateRelatedInformation;
    // A domestic order's first amount, an international one's single InstructedAmount.
    const first = order.FirstPaymentAmount ?? order.InstructedAmount;
    return `<p>Standing order <code>${escapeHtml(intent.id)}</code> to ${escapeHtml(String(order.CreditorAccount?.Name))}: first ${escapeHtml(String(first?.Amount))} ` +
      `${escapeHtml(String(first?.Currency))} on ${escapeHtml(String(mandate?.FirstPaymentDateTime))}, then ${escapeHtml(String(mandate?.Frequency?.Type))}.</p>`;
  }
  const initiation = intent.data.Initiation as { InstructedAmount?: { Amount?: string; Currency?: string }; CreditorAccount?: { Name?: string }; RequestedExecutionDateTime?: string };
  return `<p>Payment <code>${escapeHtml(intent.id)}</code>: ${escapeHtml(String(initiation.InstructedAmount?.Amount))} ` +
    `${escapeHtml(String(initiation.InstructedAmount?.Currency))} to ${escapeHtml(String(initiation.CreditorAccount?.Name))}` +
    `${initiation.RequestedExecutionDateTime ? `, on ${escapeHtml(initiation.RequestedExecutionDateTime)}` : ''}.</p>`;
}

function accountLabel(psu: UkobPsu, account: UkobAccount): string {
  return `${escapeHtml(psu.id)}: ${escapeHtml(account.nickname)} ${escapeHtml(account.sortCode)} ${escapeHtml(account.accountNumber)}`;
}

/** The selected AccountIds (`accounts` repeated or comma-separated); every PSU account when none is given. */
function selectedAccounts(form: URLSearchParams, psu: UkobPsu): { ids: string[] } | { unknown: string[] } {
  const ids = form.getAll('accounts').flatMap((value) => value.split(',')).map((id) => id.trim()).filter(Boolean);
  if (ids.length === 0) return { ids: psu.accounts.map((a) => a.accountId) };
  const unknown = ids.filter((id) => !psu.accounts.some((a) => a.accountId === id));
  return unknown.length > 0 ? { unknown } : { ids: [...new Set(ids)] };
}

/** The DebtorAccount the TPP named: the payment or VRP Initiation's (optional), the funds confirmation consent's (required). */
function namedDebtor(intent: PaymentOrderIntent | FundsConfirmationIntent | DomesticVrpIntent): { SchemeName?: string; Identification?: string } | undefined {
  return intent.kind === 'funds-confirmation' ? intent.debtorAccount : (intent.data.Initiation as { DebtorAccount?: { SchemeName?: string; Identification?: string } }).DebtorAccount;
}

/** The debtor account: the one named (it must be the PSU's), or the one chosen (`debtor_account`), or the first. */
function debtorAccount(intent: PaymentOrderIntent | FundsConfirmationIntent | DomesticVrpIntent, form: URLSearchParams, psu: UkobPsu): { account: UkobAccount } | { reason: string } {
  const named = namedDebtor(intent);
  if (named) {
    const account = psu.accounts.find((a) => /SortCodeAccountNumber$/.test(String(named.SchemeName)) && sortCodeAccountNumber(a) === named.Identification);
    return account ? { account } : { reason: `the consent's DebtorAccount is not an account of ${psu.id}` };
  }
  const chosen = form.get('debtor_account');
  const account = chosen ? psu.accounts.find((a) => a.accountId === chosen) : psu.accounts[0];
  return account ? { account } : { reason: `debtor_account ${chosen} is not an account of ${psu.id}` };
}

/** Returns a handler for `/interaction/*`; it resolves `false` for any other path so the caller passes it on. */
export function createUkobInteractionHandler(provider: Provider, intents: IntentStore, bankTitle: string) {
  function lookUp(details: Details) {
    const requested = requestedIntentId(details.params.claims);
    if ('reason' in requested) return { ok: false as const, reason: requested.reason };
    const scopes = new Set(String(details.params.scope ?? '').split(' ').filter(Boolean));
    return intents.authorisable(requested.id, String(details.params.client_id), scopes);
  }

  async function refuse(req: IncomingMessage, res: ServerResponse, description: string): Promise<void> {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: description }, { mergeWithLastSubmission: false });
  }

  async function show(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const found = lookUp(details);
    // Nothing the PSU could do about it: back to the TPP at once.
    if (!found.ok) return refuse(req, res, found.reason);
    const { intent } = found;
    const psus = UKOB_PSUS.map((psu) => `<option value="${escapeHtml(psu.id)}">${escapeHtml(psu.id)}: ${escapeHtml(psu.name)}</option>`).join('');
    const accounts = UKOB_PSUS.flatMap((psu) => psu.accounts.map((a) => ({ psu, a })));
    const choice =
      intent.kind === 'account-access'
        ? `<fieldset><legend>Accounts to share (none ticked: all of the PSU's)</legend>` +
          accounts.map(({ psu, a }) => `<label><input type="checkbox" name="accounts" value="${escapeHtml(a.accountId)}"> ${accountLabel(psu, a)}</label><br>`).join('') +
          `</fieldset>`
        : namedDebtor(intent)
          ? ''
          : `<label>Pay from <select name="debtor_account">${accounts.map(({ psu, a }) => `<option value="${escapeHtml(a.accountId)}">${accountLabel(psu, a)}</option>`).join('')}</select></label><br>`;
    page(
      res,
      200,
      `${bankTitle}: authorise`,
      `<h1>${escapeHtml(bankTitle)} sandbox</h1><p>Client <code>${escapeHtml(String(details.params.client_id))}</code> asks you to authorise:</p>` +
        describe(intent) +
        `<form method="post" action="/interaction/${escapeHtml(uid)}">` +
        `<label>Sandbox PSU <select name="psu_id">${psus}</select></label><br>${choice}` +
        `<button type="submit" name="decision" value="approve">Authorise</button> ` +
        `<button type="submit" name="decision" value="reject">Reject</button></form>`,
    );
  }

  async function submit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const details = await provider.interactionDetails(req, res);
    const found = lookUp(details);
    if (!found.ok) return refuse(req, res, found.reason);
    const { intent } = found;
    const decision = form.get('decision') ?? 'approve';
    if (decision === 'reject') {
      intents.setStatus(intent, 'RJCT');
      return refuse(req, res, `the PSU rejected intent ${intent.id}`);
    }
    if (decision !== 'approve') {
      page(res, 400, 'Unknown decision', `<h1>Unknown decision</h1><p><code>decision</code> must be <code>approve</code> or <code>reject</code>.</p>`);
      return;
    }
    const psu = findUkobPsu(form.get('psu_id') ?? '');
    if (!psu) {
      const ids = UKOB_PSUS.map((p) => `<code>${escapeHtml(p.id)}</code>`).join(', ');
      page(res, 400, 'Unknown sandbox PSU', `<h1>Unknown sandbox PSU</h1><p><code>${escapeHtml(form.get('psu_id') ?? '')}</code> is not a sandbox PSU id. Valid ids: ${ids}.</p>`);
      return;
    }

    let approval: { accountIds?: string[]; debtorAccountId?: string };
    if (intent.kind === 'account-access') {
      const selected = selectedAccounts(form, psu);
      if ('unknown' in selected) {
        page(res, 400, 'Unknown account', `<h1>Unknown account</h1><p>${selected.unknown.map((id) => `<code>${escapeHtml(id)}</code>`).join(', ')} is not an account of ${escapeHtml(psu.id)}.</p>`);
        return;
      }
      approval = { accountIds: selected.ids };
    } else {
      const debtor = debtorAccount(intent, form, psu);
      if ('reason' in debtor) {
        page(res, 400, 'Wrong debtor account', `<h1>Wrong debtor account</h1><p>${escapeHtml(debtor.reason)}.</p>`);
        return;
      }
      approval = { debtorAccountId: debtor.account.accountId };
    }

    const clientId = String(details.params.client_id);
    const grant = new provider.Grant({ accountId: psu.id, clientId });
    grant.addOIDCScope(String(details.params.scope ?? ''));
    grant.addOIDCClaims([...new Set([INTENT_CLAIM, ...requestedClaims(details.params.claims)])]);
    const grantId = await grant.save();
    intents.authorise(intent, { psuId: psu.id, grantId, ...approval });
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: psu.id, amr: ['pwd', 'otp'], acr: acrFor(details) }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  return async function handleUkobInteraction(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const match = PATH.exec(new URL(req.url ?? '/', 'http://sandbox').pathname);
    if (!match) return false;
    try {
      if (req.method === 'GET') await show(req, res, match[1]!);
      else if (req.method === 'POST') await submit(req, res);
      else {
        res.statusCode = 405;
        res.setHeader('allow', 'GET, POST');
        res.end();
      }
    } catch (error) {
      // Typically SessionNotFound: the interaction cookie is missing or the interaction expired.
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) page(res, 400, 'Interaction failed', `<h1>Interaction failed</h1><p>${escapeHtml(message)}. Start again from the authorization URL.</p>`);
    }
    return true;
  };
}
