// npm run connect -- --bank seb --connection demo [--psu 9311219639] [--scopes "psd2_accounts"]   (seb, sg, ukob)
// npm run connect -- --bank bg --connection demo --sca redirect|oauth|prestep|decoupled|embedded [--frequency-per-day N]
// Completes a sandbox consent headlessly against a running gateway: the sandbox PSU does whatever the gateway's
// `nextAction` asks (a redirect through the bank's pages, a decoupled SCA in its app, embedded PSU data).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSandboxFile } from '../sandbox/sandbox-file.js';
import { loadDevKey } from './lib/dev-key-file.js';
import { consentHeadlessly } from '../sandbox/headless-consent.js';
import { authoriseAtBank, sandboxPsuSecrets } from '../sandbox/headless-psu.js';

const { values } = parseArgs({
  options: {
    bank: { type: 'string' },
    connection: { type: 'string' },
    psu: { type: 'string' },
    scopes: { type: 'string' },
    sca: { type: 'string' },
    'frequency-per-day': { type: 'string' },
  },
});
const fail = (message: string): never => {
  console.error(`connect: ${message}`);
  process.exit(1);
};
const bank = values.bank ?? fail('--bank is required (seb, sg, bg or ukob)');
const gatewayUrl = (process.env.BANKGATE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}${process.env.BANKGATE_BASE_PATH ?? ''}`).replace(/\/$/, '');
const devKey = loadDevKey() ?? fail('no dev key: set BANKGATE_DEV_KEY to the key the gateway printed');
let sandbox;
try {
  sandbox = readSandboxFile();
} catch (error) {
  fail((error as Error).message);
}
const banks = sandbox!.banks as unknown as Record<string, { psuIds: readonly string[] } | undefined>;
const sandboxBank = (Object.hasOwn(banks, bank) ? banks[bank] : undefined) ?? fail(`the sandbox has no bank ${bank}; it has ${Object.keys(banks).join(', ')}`);
const ca = readFileSync(sandbox!.caFile, 'utf8');
const PSU_IP = '203.0.113.7';

/** bg: which sandbox PSU and which preference reach each SCA approach (sandbox/bg/README.md). */
const BG_APPROACHES: Record<string, { psuId: string; sendPsuId: boolean; preferredApproach?: string }> = {
  redirect: { psuId: 'max.mustermann', sendPsuId: false },
  oauth: { psuId: 'erika.mustermann', sendPsuId: true },
  prestep: { psuId: 'muster.gmbh', sendPsuId: true },
  decoupled: { psuId: 'max.mustermann', sendPsuId: true, preferredApproach: 'decoupled' },
  embedded: { psuId: 'max.mustermann', sendPsuId: true, preferredApproach: 'embedded' },
};
const sca = values.sca ?? 'redirect';
const approach = bank === 'bg' ? (Object.hasOwn(BG_APPROACHES, sca) ? BG_APPROACHES[sca]! : fail(`--sca must be one of ${Object.keys(BG_APPROACHES).join(', ')}`)) : undefined;
const psuId = values.psu ?? approach?.psuId ?? sandboxBank.psuIds[0]!;
const frequencyPerDay = values['frequency-per-day'] === undefined ? undefined : Number(values['frequency-per-day']);
if (frequencyPerDay !== undefined && !(Number.isInteger(frequencyPerDay) && frequencyPerDay >= 1)) fail('--frequency-per-day must be a whole number ≥ 1');

const call = (path: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(`${gatewayUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${devKey}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  }).catch((error: Error) => fail(`cannot reach the gateway at ${gatewayUrl} (${error.message}): is it running? (npm start)`));

interface View {
  connectionId?: string;
  status?: string;
  detail?: string;
  nextAction?: { type: 'redirect'; url: string } | { type: 'decoupled'; pollAfterMs: number; psuMessage?: string } | { type: 'embedded'; step: string; methods?: { authenticationMethodId: string }[] };
}

const created = await call('/connections', {
  method: 'POST',
  body: {
    bank,
    connectionId: values.connection,
    ...(values.scopes ? { scopes: values.scopes.split(/[ ,]+/) } : {}),
    ...(frequencyPerDay !== undefined ? { frequencyPerDay } : {}),
    ...(approach ? { psu: { ipAddress: PSU_IP, ...(approach.sendPsuId ? { id: psuId } : {}) }, ...(approach.preferredApproach ? { preferredApproach: approach.preferredApproach } : {}) } : {}),
  },
});
let view = (await created.json()) as View;
if (created.status !== 201) fail(`POST /connections answered ${created.status}: ${view.detail ?? JSON.stringify(view)}`);
const id = view.connectionId!;

for (let steps = 0; view.status !== 'active'; steps++) {
  const next = view.nextAction;
  if (!next || steps > 60) fail(`connection ${id} is ${view.status} with nothing left to do: ${JSON.stringify(view)}`);
  if (next!.type === 'redirect') {
    console.log(`connection ${id}: PSU ${psuId} consents at ${new URL(next!.url).origin}`);
    // seb and sg: the OAuth consent page; bg: scaRedirect or scaOAuth, through the bank's own pages.
    // ukob: the PSU approves the intent it is shown (sandbox/ukob/headless-psu.ts does the same; only headless-consent.js
    // ships with the package, so no import of the ukob helper).
    const back =
      bank === 'bg'
        ? (await authoriseAtBank(next!.url, { ca, psuId }).catch((error: Error) => fail(error.message))).returnUrl
        : (await consentHeadlessly(next!.url, { psuId, ca, ...(bank === 'ukob' ? { form: { decision: 'approve' } } : {}) }).catch((error: Error) => fail(error.message))).callbackUrl;
    // A hybrid response (FAPI 1 Advanced) comes in the fragment, which browsers keep to themselves: relayed as the query.
    if (back.hash.length > 1) {
      back.search = back.hash.slice(1);
      back.hash = '';
    }
    const callback = await fetch(back, { redirect: 'manual' });
    const result = (await callback.json()) as View;
    if (callback.status !== 200) fail(`the gateway's callback answered ${callback.status}: ${result.detail ?? JSON.stringify(result)}`);
    view = (await (await call(`/connections/${encodeURIComponent(id)}`)).json()) as View;
  } else if (next!.type === 'decoupled') {
    if (steps === 0) console.log(`connection ${id}: decoupled SCA${next!.psuMessage ? ` ("${next!.psuMessage}")` : ''}; the sandbox PSU approves in the app`);
    await new Promise((resolve) => setTimeout(resolve, next!.pollAfterMs));
    view = (await (await call(`/connections/${encodeURIComponent(id)}`)).json()) as View;
  } else {
    const secrets = sandboxPsuSecrets();
    const data =
      next!.step === 'psu_identification' ? { psuId }
      : next!.step === 'psu_authentication' ? { password: secrets.password }
      : next!.step === 'sca_method_selection' ? { authenticationMethodId: next!.methods?.[0]?.authenticationMethodId ?? fail('the bank offers no SCA method') }
      : { scaAuthenticationData: secrets.otp };
    console.log(`connection ${id}: embedded SCA, step ${next!.step}`);
    const answered = await call(`/connections/${encodeURIComponent(id)}/psu-data`, { method: 'POST', body: data });
    view = (await answered.json()) as View;
    if (answered.status !== 200) fail(`POST /connections/${id}/psu-data answered ${answered.status}: ${view.detail ?? JSON.stringify(view)}`);
  }
  if (view.status === 'failed') fail(`connection ${id} failed: ${JSON.stringify(view)}`);
}

console.log(`connection ${id} is active. Try:`);
const firstPath = bank === 'seb' ? '/seb/ais/accounts' : bank === 'bg' ? `/${bank}/xs2a/v1/accounts` : `/${bank}/aisp/accounts`;
// The PSU is present (no unattended budget spent): PSU-IP-Address, or x-fapi-customer-ip-address at a UK Open Banking bank.
const psuHeader = bank === 'ukob' ? 'x-fapi-customer-ip-address' : 'PSU-IP-Address';
console.log(`  curl -s ${gatewayUrl}${firstPath} -H 'Authorization: Bearer ${devKey}' -H 'X-Connection-Id: ${id}' -H '${psuHeader}: ${PSU_IP}'`);
