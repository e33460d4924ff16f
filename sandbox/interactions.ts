/**
 * Headless PSU login + consent, like SEB's sandbox identity numbers: `POST /interaction/:uid` with the form field
 * `psu_id` logs the sandbox PSU in and grants every requested scope and claim in one step, then answers 303 to the
 * authorization resume URL. `GET /interaction/:uid` renders the same thing as a small HTML form for a browser.
 * Scripts drive it with cookies: GET authorize → 303 here → POST psu_id → 303 resume → 303 redirect_uri?code&state&iss.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { SandboxPsu } from './data.js';

export interface InteractionOptions {
  readonly bankTitle: string;
  readonly psus: readonly SandboxPsu[];
  /** ACR values the bank supports; a requested one (`acr_values=L1`) is recorded on the login. */
  readonly acrValues?: readonly string[];
}

const PATH = /^\/interaction\/([A-Za-z0-9_-]+)\/?$/;
const MAX_FORM_BYTES = 16 * 1024;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A small HTML page of a sandbox bank (no-store). */
export function page(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body style="font-family:sans-serif;max-width:32rem;margin:2rem auto">${body}</body></html>`;
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(html);
}

/** The request's urlencoded form (at most 16 KiB). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function requestedClaims(claimsParam: unknown): string[] {
  if (typeof claimsParam !== 'string') return [];
  try {
    const parsed = JSON.parse(claimsParam) as { id_token?: object; userinfo?: object };
    return [...Object.keys(parsed.id_token ?? {}), ...Object.keys(parsed.userinfo ?? {})];
  } catch {
    return []; // oidc-provider has already rejected a malformed claims parameter before the interaction.
  }
}

/**
 * Returns a request handler for `/interaction/*`, or `false` from `handle` for any other path so the caller
 * passes the request on to oidc-provider.
 */
export function createInteractionHandler(provider: Provider, options: InteractionOptions) {
  const validIds = options.psus.map((psu) => psu.id);

  async function show(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const scope = String(details.params.scope ?? '');
    const choices = options.psus
      .map((psu) => `<option value="${escapeHtml(psu.id)}">${escapeHtml(psu.id)}: ${escapeHtml(psu.name)}</option>`)
      .join('');
    page(
      res,
      200,
      `${options.bankTitle}: sign in`,
      `<h1>${escapeHtml(options.bankTitle)} sandbox</h1>` +
        `<p>Client <code>${escapeHtml(String(details.params.client_id))}</code> asks for <code>${escapeHtml(scope)}</code>.</p>` +
        `<form method="post" action="/interaction/${escapeHtml(uid)}">` +
        `<label>Sandbox PSU <select name="psu_id">${choices}</select></label> ` +
        `<button type="submit">Sign in and consent</button></form>`,
    );
  }

  async function submit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = await readForm(req);
    const psuId = form.get('psu_id') ?? '';
    const psu = options.psus.find((candidate) => candidate.id === psuId);
    if (!psu) {
      page(
        res,
        400,
        'Unknown sandbox PSU',
        `<h1>Unknown sandbox PSU</h1><p><code>${escapeHtml(psuId)}</code> is not a sandbox PSU id. ` +
          `Valid ids: ${validIds.map((id) => `<code>${escapeHtml(id)}</code>`).join(', ')}.</p>`,
      );
      return;
    }
    const details = await provider.interactionDetails(req, res);
    const clientId = String(details.params.client_id);
    // Login and consent in one step: a grant covering everything that was asked for, so the resumed
    // authorization request finds no prompt left and answers with the code.
    const grant = details.grantId
      ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId: psu.id, clientId }))
      : new provider.Grant({ accountId: psu.id, clientId });
    if (typeof details.params.scope === 'string') grant.addOIDCScope(details.params.scope);
    const claims = requestedClaims(details.params.claims);
    if (claims.length > 0) grant.addOIDCClaims(claims);
    const grantId = await grant.save();

    const requestedAcr = String(details.params.acr_values ?? '').split(' ').find((acr) => options.acrValues?.includes(acr));
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: psu.id, amr: ['pwd'], ...(requestedAcr ? { acr: requestedAcr } : {}) }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  return async function handleInteraction(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
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
      page(res, 400, 'Interaction failed', `<h1>Interaction failed</h1><p>${escapeHtml(message)}. Start again from the authorization URL.</p>`);
    }
    return true;
  };
}
