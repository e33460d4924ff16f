/**
 * Runs INSIDE the runtime under test (`deno run --allow-all --sloppy-imports`, `bun`): the runtime transport's
 * error translation for a bank that drops the connection without an alert. argv: a JSON file `{ caPem,
 * identities: { name: { certPem, keyPem } }, calls: [{ identity, url }] }`. Each call is a POST through the
 * runtime's fetch with that client certificate (as adapter/<runtime>/transport.ts makes it); a failure goes
 * through the adapter's translation (Deno: `denoNetworkError` + `explainClose`; Bun: `bunNetworkError`).
 * Prints `probe <json>`: per call, the translated error's code (or `ok`).
 */
import { readFileSync } from 'node:fs';
import type { PemIdentity } from '../../../plugin/transport/pem-identity.js';

interface Input {
  caPem: string;
  identities: Record<string, { certPem: string; keyPem: string }>;
  calls: Array<{ identity: string; url: string }>;
}
type Call = (url: string, pem: { certPem: string; keyPem: string }, caPem: string) => Promise<Response>;
type Translate = (error: unknown, url: string, identity: PemIdentity) => Promise<unknown>;

const onDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
let call: Call;
let translate: Translate;
if (onDeno) {
  const { denoNetworkError, explainClose } = await import('../../../plugin/adapter/deno/transport.js');
  const Deno = (await import('../../../plugin/adapter/deno/deno-api.js')).deno();
  call = async (url, pem, caPem) => {
    const client = Deno.createHttpClient({ cert: pem.certPem, key: pem.keyPem, caCerts: [caPem] });
    try {
      const answer = await fetch(url, { method: 'POST', body: 'grant_type=refresh_token', client } as RequestInit);
      await answer.arrayBuffer();
      return answer;
    } finally {
      client.close();
    }
  };
  translate = (error, url, identity) => explainClose(denoNetworkError(error), url, identity, Deno, 10_000);
} else {
  const { bunNetworkError } = await import('../../../plugin/adapter/bun/transport.js');
  call = async (url, pem, caPem) => {
    const answer = await fetch(url, { method: 'POST', body: 'grant_type=refresh_token', tls: { cert: pem.certPem, key: pem.keyPem, ca: caPem } } as RequestInit);
    await answer.arrayBuffer();
    return answer;
  };
  translate = bunNetworkError;
}

const argv = onDeno ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args : process.argv.slice(2);
const input = JSON.parse(readFileSync(argv[0]!, 'utf8')) as Input;
const results: string[] = [];
for (const { identity: name, url } of input.calls) {
  const pem = input.identities[name]!;
  const identity: PemIdentity = { ...pem, caPem: input.caPem, thumbprint: '', notBefore: new Date(0), notAfter: new Date(0) };
  try {
    await call(url, pem, input.caPem);
    results.push('ok');
  } catch (error) {
    const translated = await translate(error, url, identity);
    results.push(String((translated as { code?: unknown }).code ?? (translated as Error).name));
  }
}
console.log(`probe ${JSON.stringify(results)}`);
