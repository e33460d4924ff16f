// npm run connect -- --bank seb --connection demo [--psu 9311219639] [--scopes "psd2_accounts"]   (seb, sg, ukob)
// Completes a sandbox consent headlessly through the real redirect flow against a running gateway.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSandboxFile } from '../sandbox/sandbox-file.js';
import { loadDevKey } from './lib/dev-key-file.js';
import { consentHeadlessly } from '../sandbox/headless-consent.js';

const { values } = parseArgs({
  options: { bank: { type: 'string' }, connection: { type: 'string' }, psu: { type: 'string' }, scopes: { type: 'string' } },
});
const fail = (message: string): never => {
  console.error(`connect: ${message}`);
  process.exit(1);
};
const bank = values.bank ?? fail('--bank is required (seb, sg or ukob)');
const gatewayUrl = (process.env.BANKGATE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}${process.env.BANKGATE_BASE_PATH ?? ''}`).replace(/\/$/, '');
const devKey = loadDevKey() ?? fail('no dev key: set BANKGATE_DEV_KEY to the key the gateway printed');
let sandbox;
try {
  sandbox = readSandboxFile();
} catch (error) {
  fail((error as Error).message);
}
const sandboxBank = sandbox!.banks[bank as 'seb' | 'sg' | 'ukob'] ?? fail(`the sandbox has no bank ${bank}; it has ${Object.keys(sandbox!.banks).join(', ')}`);
const psuId = values.psu ?? sandboxBank.psuIds[0]!;

const created = await fetch(`${gatewayUrl}/connections`, {
  method: 'POST',
  headers: { authorization: `Bearer ${devKey}`, 'content-type': 'application/json' },
  body: JSON.stringify({ bank, connectionId: values.connection, ...(values.scopes ? { scopes: values.scopes.split(/[ ,]+/) } : {}) }),
}).catch((error: Error) => fail(`cannot reach the gateway at ${gatewayUrl} (${error.message}): is it running? (npm start)`));
const createdBody = (await created.json()) as { connectionId?: string; authorizeUrl?: string; detail?: string };
if (created.status !== 201 || !createdBody.authorizeUrl) fail(`POST /connections answered ${created.status}: ${createdBody.detail ?? JSON.stringify(createdBody)}`);
console.log(`connection ${createdBody.connectionId}: PSU ${psuId} consents at ${new URL(createdBody.authorizeUrl!).origin}`);

const ca = readFileSync(sandbox!.caFile, 'utf8');
// The UK-OB-like bank's PSU approves the intent it is shown (sandbox/ukob/headless-psu.ts does the same); the
// others sign in and consent. (Only headless-consent.js ships with the package: no import of the ukob helper.)
const { callbackUrl } = await consentHeadlessly(createdBody.authorizeUrl!, { psuId, ca, ...(bank === 'ukob' ? { form: { decision: 'approve' } } : {}) }).catch((error: Error) => fail(error.message));
// A hybrid response (FAPI 1 Advanced) comes in the fragment, which browsers keep to themselves: relayed as the query.
if (callbackUrl.hash.length > 1) {
  callbackUrl.search = callbackUrl.hash.slice(1);
  callbackUrl.hash = '';
}
const callback = await fetch(callbackUrl, { redirect: 'manual' });
const result = (await callback.json()) as { status?: string; detail?: string };
if (callback.status !== 200 || result.status !== 'active') fail(`the gateway's callback answered ${callback.status}: ${result.detail ?? JSON.stringify(result)}`);
console.log(`connection ${createdBody.connectionId} is active. Try:`);
const firstPath = bank === 'seb' ? '/seb/ais/accounts' : `/${bank}/aisp/accounts`;
console.log(`  curl -s ${gatewayUrl}${firstPath} -H 'Authorization: Bearer ${devKey}' -H 'X-Connection-Id: ${createdBody.connectionId}' -H 'PSU-IP-Address: 203.0.113.7'`);
