/**
 * The gateway's `x-jws-signature` (plugin/oauth/detached-jws.ts) against the ukob sandbox, which verifies it itself:
 * accepted as PS256 with `kid` and the OB `crit` claims, in both the current form and the pre-3.1.4 `b64: false`
 * form; refused when the body was changed after signing (`U015`). And the bank's own signed answers verified with its
 * published keys, a changed answer or a wrong issuer refused with `bank_response_invalid`.
 */
import { readFile } from 'node:fs/promises';
import { decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankgateError } from '../../plugin/errors/bankgate-error.js';
import { OB_IAT, OB_ISS, OB_TAN, signDetachedJws, verifyDetachedJws, type JwsSigner } from '../../plugin/oauth/detached-jws.js';
import { importSigningKey } from '../../plugin/oauth/signing-key.js';
import { call, clientCredentials, domesticPaymentConsentBody, headers, startUkobTestSandbox, type UkobTestSandbox } from '../sandbox/ukob-helpers.js';

describe('x-jws-signature against the ukob sandbox', () => {
  let t: UkobTestSandbox;
  let signer: JwsSigner;
  let token: string;
  let consents: string;
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  beforeAll(async () => {
    t = await startUkobTestSandbox('2.0');
    const key = await importSigningKey(await readFile(t.bank.signing.keyFile, 'utf8'), { keyId: t.bank.signing.keyId, path: 'banks.ukob.jws' });
    signer = { key, issuer: t.bank.signing.jwsIssuer, trustAnchor: t.bank.signing.trustAnchor };
    token = await clientCredentials(t, 'payments');
    consents = `${t.bank.apis.pisp}/domestic-payment-consents`;
  });
  afterAll(() => t?.close());

  const post = (body: Uint8Array, jws: string) =>
    call(t, consents, { method: 'POST', token, body: new TextDecoder().decode(body), headers: headers({ 'x-idempotency-key': crypto.randomUUID(), 'x-jws-signature': jws }) });

  it('signs with PS256, the kid and the OB claims in crit: the bank accepts it', async () => {
    const body = encode(domesticPaymentConsentBody());
    const jws = await signDetachedJws(signer, body, Date.now());
    expect(jws).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect(decodeProtectedHeader(jws)).toMatchObject({ alg: 'PS256', kid: t.bank.signing.keyId, typ: 'JOSE', crit: [OB_IAT, OB_ISS, OB_TAN], [OB_ISS]: t.bank.signing.jwsIssuer });
    expect((await post(body, jws)).status).toBe(201);
  });

  it('signs as older banks want it (b64: false in the header and in crit): accepted', async () => {
    const body = encode(domesticPaymentConsentBody());
    const jws = await signDetachedJws({ ...signer, b64: false }, body, Date.now());
    expect(decodeProtectedHeader(jws)).toMatchObject({ b64: false, crit: [OB_IAT, OB_ISS, OB_TAN, 'b64'] });
    expect((await post(body, jws)).status).toBe(201);
  });

  it('a body changed after signing is refused by the bank (U015), and so is a stale signature (U016)', async () => {
    const signed = domesticPaymentConsentBody();
    const jws = await signDetachedJws(signer, encode(signed), Date.now());
    const tampered = structuredClone(signed);
    tampered.Data.Initiation.InstructedAmount.Amount = '9999.00';
    const refused = await post(encode(tampered), jws);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { Errors: { ErrorCode: string }[] }).Errors[0]!.ErrorCode).toBe('U015');

    const body = encode(domesticPaymentConsentBody());
    const stale = await post(body, await signDetachedJws(signer, body, Date.now() - 3_600_000));
    expect(((await stale.json()) as { Errors: { ErrorCode: string }[] }).Errors[0]!.ErrorCode).toBe('U016');
  });

  it("verifies the bank's signed answer with its JWKS; a changed answer or another issuer is bank_response_invalid", async () => {
    const body = encode(domesticPaymentConsentBody());
    const answer = await post(body, await signDetachedJws(signer, body, Date.now()));
    const answerBody = new Uint8Array(await answer.arrayBuffer());
    const signature = answer.headers.get('x-jws-signature') ?? undefined;
    const jwks = (await (await t.sandbox.fetch(t.sandbox.agents.none, t.bank.bankSigning.jwksUrl)).json()) as JSONWebKeySet;
    const expected = { jwks, issuer: t.bank.bankSigning.issuer, trustAnchor: t.bank.bankSigning.trustAnchor };
    const header = await verifyDetachedJws('ukob', signature, answerBody, expected, Date.now());
    expect(header).toMatchObject({ kid: t.bank.bankSigning.keyId, [OB_ISS]: t.bank.bankSigning.issuer });

    const changed = new TextEncoder().encode(new TextDecoder().decode(answerBody).replace('AWAU', 'AUTH'));
    const refusals = await Promise.allSettled([
      verifyDetachedJws('ukob', signature, changed, expected, Date.now()),
      verifyDetachedJws('ukob', signature, answerBody, { ...expected, issuer: 'someone-else' }, Date.now()),
      verifyDetachedJws('ukob', undefined, answerBody, expected, Date.now()),
      verifyDetachedJws('ukob', signature, answerBody, expected, Date.now() + 3_600_000),
    ]);
    for (const refusal of refusals) {
      expect(refusal.status).toBe('rejected');
      const error = (refusal as PromiseRejectedResult).reason as BankgateError;
      expect(error).toBeInstanceOf(BankgateError);
      expect(error.code).toBe('bank_response_invalid');
      expect(error.message).not.toContain(signature!.slice(-20));
    }
  });
});
