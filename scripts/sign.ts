// npm run sign -- --key KEY.pem --cert CERT.pem --key-id ID --method M --url URL [--header 'Name: value']… [--body FILE]
//                 [--signed-headers '(request-target) digest x-request-id date'] [--passphrase P]
// Prints exactly the Digest, Signature and TPP-Signature-Certificate headers bankgate would send for that
// request (plus Date when it had to add one), through the transport's own signer: to debug a bank's
// signature rejection, compare with what the bank says it expected. Date and X-Request-ID given with
// --header are used as given.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decryptPrivateKeyPem } from '../plugin/adapter/node/transport/options.js';
import { outgoingHeaders } from '../plugin/transport/hop-by-hop.js';
import { createRequestSigner } from '../plugin/transport/request-signer.js';
import { resolveSigningOptions } from '../plugin/transport/signing-options.js';

const fail = (message: string): never => {
  console.error(`sign: ${message}`);
  process.exit(1);
};

const { values } = parseArgs({
  options: {
    key: { type: 'string' },
    cert: { type: 'string' },
    'key-id': { type: 'string' },
    method: { type: 'string' },
    url: { type: 'string' },
    header: { type: 'string', multiple: true },
    body: { type: 'string' },
    'signed-headers': { type: 'string' },
    passphrase: { type: 'string' },
  },
});
const read = (path: string | undefined, what: string): Buffer =>
  path === undefined ? fail(`--${what} is required`) : (() => {
    try {
      return readFileSync(path);
    } catch (error) {
      return fail(`--${what} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'unreadable'}`);
    }
  })();

const key = read(values.key, 'key').toString('utf8');
const certificate = values.cert === undefined ? undefined : read(values.cert, 'cert').toString('utf8');
const keyId = values['key-id'] ?? fail('--key-id is required (the keyId the bank knows the QSeal by)');
const method = (values.method ?? fail('--method is required')).toUpperCase();
let url: URL;
try {
  url = new URL(values.url ?? fail('--url is required'));
} catch {
  fail(`--url ${values.url} is not an absolute URL`);
}
const headers: Record<string, string> = {};
for (const line of values.header ?? []) {
  const colon = line.indexOf(':');
  if (colon <= 0) fail(`--header '${line}' must be 'Name: value'`);
  headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
}
const body = values.body === undefined ? undefined : new Uint8Array(read(values.body, 'body'));

let signed: Record<string, string>;
try {
  const signing = await resolveSigningOptions(
    {
      keyId,
      key,
      ...(values.passphrase !== undefined ? { passphrase: values.passphrase } : {}),
      ...(certificate !== undefined ? { certificate } : {}),
      ...(values['signed-headers'] ? { headers: values['signed-headers'].split(/\s+/).filter(Boolean) } : {}),
    },
    'sign',
    { runtime: 'node', decryptPrivateKey: decryptPrivateKeyPem },
  );
  // The same steps as the transport's send(): header hygiene, then the signer.
  signed = await createRequestSigner('sign', signing)({ method, path: url!.pathname + url!.search, headers: outgoingHeaders(headers), body });
} catch (error) {
  fail((error as Error).message.replace(/^sign\./, '--'));
}
const NAMES: Record<string, string> = { date: 'Date', digest: 'Digest', signature: 'Signature', 'tpp-signature-certificate': 'TPP-Signature-Certificate' };
for (const name of ['date', 'digest', 'signature', 'tpp-signature-certificate']) {
  // Date only when the signer added it: a Date the operator gave is theirs already.
  if (name === 'date' && headers.date !== undefined) continue;
  if (signed![name] !== undefined) console.log(`${NAMES[name]}: ${signed![name]}`);
}
