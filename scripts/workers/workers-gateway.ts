/**
 * bankgate/workers in local workerd (Miniflare, the runtime wrangler dev uses), in front of the sandbox banks.
 * The QWAC bindings are the faithful offline stand-in for `mtls_certificates` (which wrangler and Miniflare
 * only proxy to Cloudflare): a service binding to the network with workerd `tlsOptions`, presenting the
 * sandbox's client certificate and trusting its CA: the bank sees the certificate, as with the real binding.
 * (Not Miniflare 4's `external: { https }` form: it silently sends plain HTTP.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Log, LogLevel, Miniflare } from 'miniflare';
import type { SandboxFile, SandboxPemPair } from '../../sandbox/sandbox-file.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** workerd's own date is 2026-04-26; the Worker asks for no compatibility flag (no nodejs_compat). */
export const COMPATIBILITY_DATE = '2026-04-01';

/** Bundles the sandbox Worker for workerd: ES module, the conditions Workers resolve, every import inside. */
export async function bundleSandboxWorker(entry = 'scripts/workers/sandbox-worker.ts'): Promise<string> {
  const outfile = join(ROOT, 'dist/workers', entry.replace(/^.*\//, '').replace(/\.ts$/, '.js'));
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['browser', 'module', 'main'],
    conditions: ['workerd', 'worker', 'browser', 'import'],
    logLevel: 'warning',
  });
  return outfile;
}

function qwacStandIn(pair: SandboxPemPair, caPem: string) {
  return {
    network: {
      allow: ['local'],
      tlsOptions: {
        keypair: { privateKey: readFileSync(pair.keyFile, 'utf8'), certificateChain: readFileSync(pair.certFile, 'utf8') },
        trustedCertificates: [caPem],
      },
    },
  };
}

export interface WorkersGatewayOptions {
  readonly sandbox: SandboxFile;
  readonly port: number;
  readonly host?: string;
  readonly devKey: string;
  readonly storeKey: string;
  /** BANKGATE_STORE; default the Durable Object store. */
  readonly store?: string;
  /** The certificate each QWAC binding presents (default: the sandbox's for that bank). */
  readonly qwac?: Partial<Record<'seb' | 'sg', SandboxPemPair>>;
  readonly log?: boolean;
  /** The Worker's entry (repository path); default the sandbox gateway Worker. */
  readonly entry?: string;
}

export interface WorkersGateway {
  readonly url: string;
  dispose(): Promise<void>;
}

export async function startWorkersGateway(options: WorkersGatewayOptions): Promise<WorkersGateway> {
  const { sandbox } = options;
  const scriptPath = await bundleSandboxWorker(options.entry);
  const caPem = readFileSync(sandbox.caFile, 'utf8');
  const host = options.host ?? '127.0.0.1';
  const seb = options.qwac?.seb ?? sandbox.banks.seb.mtls;
  const sg = options.qwac?.sg ?? sandbox.banks.sg.mtls;
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    compatibilityDate: COMPATIBILITY_DATE,
    // No Request.cf from Cloudflare's API (offline; the gateway does not read it).
    cf: false,
    host,
    port: options.port,
    durableObjects: { BANKGATE_STORE: 'BankgateStoreObject' },
    bindings: {
      BANKGATE_SANDBOX: JSON.stringify(sandbox),
      BANKGATE_PUBLIC_URL: `http://${host}:${options.port}`,
      BANKGATE_DEV_KEY: options.devKey,
      BANKGATE_STORE_KEY: options.storeKey,
      ...(options.store ? { BANKGATE_STORE: options.store } : {}),
      SEB_CLIENT_SECRET: sandbox.banks.seb.client.clientSecret ?? '',
      QWAC_SEB_CERTIFICATE: readFileSync(seb.certFile, 'utf8'),
      QWAC_SG_CERTIFICATE: readFileSync(sg.certFile, 'utf8'),
      ...(sandbox.banks.sg.signing ? { SG_SIGNING_KEY: readFileSync(sandbox.banks.sg.signing.keyFile, 'utf8') } : {}),
    },
    serviceBindings: { QWAC_SEB: qwacStandIn(seb, caPem), QWAC_SG: qwacStandIn(sg, caPem) },
    ...(options.log ? { log: new Log(LogLevel.INFO) } : {}),
  });
  const url = await mf.ready;
  return { url: url.origin, dispose: () => mf.dispose() };
}
