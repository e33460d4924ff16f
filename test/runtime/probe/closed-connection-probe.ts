/**
 * Runs INSIDE Deno (`deno run --allow-all --sloppy-imports`): the Deno transport's error translation for a
 * bank that drops the connection without an alert. argv: a JSON file `{ caPem, identities: { name: { certPem,
 * keyPem } }, calls: [{ identity, url }] }`. Each call is a POST through Deno's fetch with that client
 * certificate (as adapter/deno/transport.ts makes it); a failure goes through `denoNetworkError` and
 * `explainClose`. Prints `probe <json>`: per call, the translated error's code (or `ok`).
 */
import { denoNetworkError, explainClose } from '../../../plugin/adapter/deno/transport.js';
import { deno } from '../../../plugin/adapter/deno/deno-api.js';

interface Input {
  caPem: string;
  identities: Record<string, { certPem: string; keyPem: string }>;
  calls: Array<{ identity: string; url: string }>;
}
const Deno = deno();
const input = JSON.parse(new TextDecoder().decode(Deno.readFileSync((globalThis as unknown as { Deno: { args: string[] } }).Deno.args[0]!))) as Input;
const results: string[] = [];
for (const call of input.calls) {
  const pem = input.identities[call.identity]!;
  const identity = { ...pem, caPem: input.caPem, thumbprint: '', notBefore: new Date(0), notAfter: new Date(0) };
  const client = Deno.createHttpClient({ cert: pem.certPem, key: pem.keyPem, caCerts: [input.caPem] });
  try {
    const answer = await fetch(call.url, { method: 'POST', body: 'grant_type=refresh_token', client } as RequestInit);
    await answer.arrayBuffer();
    results.push('ok');
  } catch (error) {
    const translated = await explainClose(denoNetworkError(error), call.url, identity, Deno, 10_000);
    results.push(String((translated as { code?: unknown }).code ?? (translated as Error).name));
  } finally {
    client.close();
  }
}
console.log(`probe ${JSON.stringify(results)}`);
