/**
 * Runs INSIDE the runtime under test (`deno run --allow-all --sloppy-imports`, `bun`): the runtime transport's
 * error translation for a bank that drops the connection without an alert. argv: a JSON file `{ caPem,
 * identities: { name: { certPem, keyPem } }, calls: [{ identity, url }] }`. Each call is a POST through the
 * runtime's fetch with that client certificate (as adapter/<runtime>/transport.ts makes it); a failure goes
 * through the adapter's translation (Deno: `denoNetworkError` + `explainClose`; Bun: `bunNetworkError`).
 * A call with `abortAfterMs` hands the translation a signal that aborts that long after the failure (the caller
 * giving up during the probe). Prints `probe <json>`: per call, the translated error's code (or `ok`); and
 * `elapsed <json>`: per call, the milliseconds the translation (the probe) took.
 */
import { readFileSync } from 'node:fs';
import type { PemIdentity } from '../../../plugin/transport/pem-identity.js';

interface Input {
  caPem: string;
  identities: Record<string, { certPem: string; keyPem: string }>;
  calls: Array<{ identity: string; url: string; abortAfterMs?: number }>;
}
type Call = (url: string, pem: { certPem: string; keyPem: string }, caPem: string) => Promise<Response>;
type Translate = (error: unknown, url: string, identity: PemIdentity, signal: AbortSignal | undefined) => Promise<unknown>;

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
  translate = (error, url, identity, signal) => explainClose(denoNetworkError(error), url, identity, Deno, 10_000, signal);
} else {
  const { bunNetworkError } = await import('../../../plugin/adapter/bun/transport.js');
  call = async (url, pem, caPem) => {
    const answer = await fetch(url, { method: 'POST', body: 'grant_type=refresh_token', tls: { cert: pem.certPem, key: pem.keyPem, ca: caPem } } as RequestInit);
    await answer.arrayBuffer();
    return answer;
  };
  translate = (error, url, identity, signal) => bunNetworkError(error, url, identity, { timeoutMs: 10_000, ...(signal ? { signal } : {}) });
}

const argv = onDeno ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args : process.argv.slice(2);
const input = JSON.parse(readFileSync(argv[0]!, 'utf8')) as Input;
const results: string[] = [];
const elapsed: number[] = [];
for (const { identity: name, url, abortAfterMs } of input.calls) {
  const pem = input.identities[name]!;
  const identity: PemIdentity = { ...pem, caPem: input.caPem, thumbprint: '', notBefore: new Date(0), notAfter: new Date(0) };
  try {
    await call(url, pem, input.caPem);
    results.push('ok');
    elapsed.push(0);
  } catch (error) {
    const started = performance.now();
    const translated = await translate(error, url, identity, abortAfterMs === undefined ? undefined : AbortSignal.timeout(abortAfterMs));
    elapsed.push(Math.round(performance.now() - started));
    results.push(String((translated as { code?: unknown }).code ?? (translated as Error).name));
  }
}
console.log(`probe ${JSON.stringify(results)}`);
console.log(`elapsed ${JSON.stringify(elapsed)}`);
