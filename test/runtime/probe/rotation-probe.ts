/**
 * Runs INSIDE the runtime under test (`deno run --sloppy-imports`, `bun`): certificate rotation of the
 * runtime's mTLS transport. The QWAC is read from files in BANKGATE_ROTATION_DIR (cert.pem, key.pem, ca.pem);
 * one call to the SEB-like sandbox bank, then the files are replaced on disk with the next certificate, and,
 * once the transport logged the rotation, a second call. Prints `probe <json>`: the thumbprints the transport
 * presented, the log events, and the warnings about the certificate's expiry (warnDays: 3650).
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { ProblemCollector } from '../../../plugin/config/secret-ref.js';
import type { Logger } from '../../../plugin/log.js';
import { MetricsRegistry } from '../../../plugin/observability/metrics.js';
import type { Runtime } from '../../../plugin/runtime.js';
import { mtlsSchema, transportSchema } from '../../../plugin/transport/config-schema.js';
import { readSandboxFile } from '../../../sandbox/sandbox-file.js';

const runtimeName = (globalThis as { Deno?: unknown }).Deno ? 'deno' : 'bun';
const runtime: Runtime = runtimeName === 'deno' ? (await import('../../../plugin/adapter/deno/index.js')).denoRuntime() : (await import('../../../plugin/adapter/bun/index.js')).bunRuntime();
const sandbox = readSandboxFile();
const dir = process.env.BANKGATE_ROTATION_DIR!;
const next = sandbox.banks.seb.nextMtls!;

const events: Array<{ level: string; event: string; fields: Record<string, unknown> }> = [];
const log: Logger = {
  info: (event, fields = {}) => void events.push({ level: 'info', event, fields }),
  warn: (event, fields = {}) => void events.push({ level: 'warn', event, fields }),
  error: (event, fields = {}) => void events.push({ level: 'error', event, fields }),
};
const mtls = mtlsSchema.parse({ cert: { file: join(dir, 'cert.pem') }, key: { file: join(dir, 'key.pem') }, ca: { file: join(dir, 'ca.pem') }, warnDays: 3650, reloadDebounceMs: 100 });
const problems = new ProblemCollector(runtime);
const transport = await runtime.transport({ bank: 'seb', at: 'banks.seb.mtls', mtls, settings: transportSchema.parse({}), labels: { bank: 'seb' } }, { metrics: new MetricsRegistry(), log, problems, now: Date.now });
if (!transport) throw new Error(`probe: no transport: ${problems.problems.join('; ')}`);
const base = new URL(sandbox.banks.seb.apis.ais!);
const call = async () => (await transport.send({ method: 'GET', origin: base.origin, path: `${base.pathname.replace(/\/$/, '')}/accounts`, headers: { 'x-request-id': crypto.randomUUID() } })).status;

const before = { thumbprint: transport.clientCertificateThumbprint?.(), status: await call() };
// The key first, then the certificate: a reload between the two fails and keeps the old pair (logged), the next succeeds.
writeFileSync(join(dir, 'key.pem'), readFileSync(next.keyFile));
writeFileSync(join(dir, 'cert.pem'), readFileSync(next.certFile));
const deadline = Date.now() + 20_000;
while (!events.some((e) => e.event === 'bank.certificate.rotated') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
const after = { thumbprint: transport.clientCertificateThumbprint?.(), status: await call() };
console.log(`probe ${JSON.stringify({ runtime: runtimeName, before, after, events: events.map((e) => ({ level: e.level, event: e.event, thumbprint: e.fields.thumbprint, from: e.fields.from, to: e.fields.to })) })}`);
await transport.close();
process.exit(0);
