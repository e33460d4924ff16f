/**
 * The transport's part of `hono.config.ts`: `banks.<bank>.mtls` (also `banks.<bank>.apis.<api>.mtls`),
 * `banks.<bank>.signing` and `banks.<bank>.transport`. Checked once at start; every default lives here so
 * that the transport reads resolved values without fallbacks. One portable schema for every runtime.
 */
import { z } from 'zod';
import { secretRefSchema } from '../config/secret-ref.js';

/** A reference that must be there; its absence is named with what to give. */
const required = (what: string) => z.union(secretRefSchema.options, { error: (issue) => (issue.input === undefined ? `required: ${what}` : undefined) });

/** What every file-based form shares: the bank's CA, SNI, expiry warning and hot rotation. */
const tlsTrust = {
  /** The bank's CA (PEM, one or more) that its servers must chain to: pins it. The system roots when absent. */
  ca: secretRefSchema.optional(),
  /** TLS SNI and the name the bank's server certificate must be issued for, when it differs from the URL's host. */
  servername: z.string().min(1).optional(),
  /** Warn (log + `bankgate_client_certificate_expiry_days`) when the certificate expires within this many days. */
  warnDays: z.number().int().min(0).max(3650).default(30),
  /** Watch the certificate files and switch to a new certificate without a restart. */
  watch: z.boolean().default(true),
  /** How long file changes must settle before the certificate is re-read. */
  reloadDebounceMs: z.number().int().min(0).max(60_000).default(250),
};

/** `cert` + `key` (PEM: file, env var or value; `keyPassphrase` if the key is encrypted, `chain` for intermediates). */
const pemMtlsSchema = z.strictObject({
  kind: z.literal('pem'),
  cert: required('the client certificate as cert + key (PEM), or pfx + passphrase (PKCS#12)'),
  key: required('the client certificate as cert + key (PEM), or pfx + passphrase (PKCS#12)'),
  /** Passphrase of an encrypted PEM `key`. */
  keyPassphrase: secretRefSchema.optional(),
  /** Intermediate certificates (PEM) sent after the client certificate, when `cert` does not hold them. */
  chain: secretRefSchema.optional(),
  ...tlsTrust,
});

/** `pfx` + `passphrase` (PKCS#12: a file, or base64 in an env var) holding the certificate, its key and optionally the chain. */
const pkcs12MtlsSchema = z.strictObject({
  kind: z.literal('pkcs12'),
  pfx: secretRefSchema,
  passphrase: secretRefSchema.optional(),
  ...tlsTrust,
});

/**
 * `binding`: the certificate lives in the platform, not in bankgate (Cloudflare Workers: an `mtls_certificates`
 * binding, one certificate per binding, fixed at deploy). The TLS stack and its trust store are the platform's
 * (no `ca`, no `servername`). `certificate` (the public PEM, optional) gives bankgate the thumbprint for
 * certificate-bound tokens and the expiry warning; without it neither is known.
 */
const bindingMtlsSchema = z.strictObject({
  kind: z.literal('binding'),
  /** The binding's name in the runtime's environment, e.g. `QWAC_SEB` (`env.QWAC_SEB.fetch`). */
  binding: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of a binding (letters, digits, underscores)'),
  /** The bound certificate (PEM, public): its `x5t#S256` and expiry. */
  certificate: secretRefSchema.optional(),
  warnDays: tlsTrust.warnDays,
});

type MtlsInputOf<S extends z.ZodType, K extends string> = Omit<z.input<S>, 'kind'> & { kind?: K };
/** What a config may write for the PEM form (`kind` optional). */
export type PemMtlsInput = MtlsInputOf<typeof pemMtlsSchema, 'pem'>;
type MtlsInput = PemMtlsInput | MtlsInputOf<typeof pkcs12MtlsSchema, 'pkcs12'> | (MtlsInputOf<typeof bindingMtlsSchema, 'binding'> & { ca?: never; servername?: never });
export type PemMtlsConfig = z.output<typeof pemMtlsSchema>;
export type Pkcs12MtlsConfig = z.output<typeof pkcs12MtlsSchema>;
export type BindingMtlsConfig = z.output<typeof bindingMtlsSchema>;
/** The forms whose certificate bankgate reads itself (PEM, PKCS#12), as opposed to a platform binding. */
export type FileMtlsConfig = PemMtlsConfig | Pkcs12MtlsConfig;
/** `banks.<bank>.mtls`, its form told by `kind` (`pem`, `pkcs12`, `binding`). */
export type MtlsConfig = FileMtlsConfig | BindingMtlsConfig;

/**
 * `kind` may be left out: it follows from the keys given (`binding` → `binding`, `pfx` → `pkcs12`, else `pem`). Mixing the forms
 * is refused here with the way out, rather than as unknown keys.
 */
function inferMtlsKind(value: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || 'kind' in value) return value;
  const has = (key: string) => (value as Record<string, unknown>)[key] !== undefined;
  if (has('binding')) {
    const mixed = ['cert', 'key', 'pfx', 'passphrase', 'keyPassphrase', 'chain', 'ca', 'servername'].filter(has);
    if (mixed.length > 0) {
      ctx.addIssue({ code: 'custom', message: `give either binding (the platform holds the certificate and its trust store) or the certificate itself, not both (remove ${mixed.join(', ')})` });
      return z.NEVER;
    }
    return { kind: 'binding', ...value };
  }
  if (has('pfx') && (has('cert') || has('key'))) {
    ctx.addIssue({ code: 'custom', message: 'give either cert + key (PEM) or pfx + passphrase (PKCS#12), not both' });
    return z.NEVER;
  }
  if (has('pfx') && has('keyPassphrase')) {
    ctx.addIssue({ code: 'custom', path: ['keyPassphrase'], message: 'only applies to a PEM key (use passphrase for pfx)' });
    return z.NEVER;
  }
  if (!has('pfx') && has('passphrase')) {
    ctx.addIssue({ code: 'custom', path: ['passphrase'], message: 'only applies to pfx (use keyPassphrase for an encrypted PEM key)' });
    return z.NEVER;
  }
  return { kind: has('pfx') ? 'pkcs12' : 'pem', ...value };
}

/**
 * `banks.<bank>.mtls`: the QWAC presented on every call and token request, and the bank's CA. This is data:
 * the runtime's transport factory reads and checks it at start (`bankgate/node`: PEM files, env vars,
 * PKCS#12). Either `cert` + `key` (PEM; `keyPassphrase` if the key is encrypted) or `pfx` + `passphrase`
 * (PKCS#12), or, on a platform that holds certificates itself, `binding` (Workers). There is deliberately no switch that turns the server certificate check off: pin the bank's CA
 * (or its self-signed certificate) with `ca`, and name the host its certificate is issued for with `servername`.
 */
export const mtlsSchema = z.preprocess(inferMtlsKind, z.discriminatedUnion('kind', [pemMtlsSchema, pkcs12MtlsSchema, bindingMtlsSchema])) as unknown as z.ZodType<MtlsConfig, MtlsInput>;

/** `banks.<bank>.signing`: draft-cavage request signing with the QSeal key. */
export const signingSchema = z.strictObject({
  keyId: z.string().min(1),
  key: secretRefSchema,
  keyPassphrase: secretRefSchema.optional(),
  /** The QSeal certificate (PEM): sent as `TPP-Signature-Certificate` (base64 DER) on every signed call. */
  certificate: secretRefSchema.optional(),
  /**
   * Headers to sign, in order. Default `(request-target) digest x-request-id date` (bankgate adds `Date` when
   * the request has none), plus `tpp-signature-certificate` when `certificate` is set.
   */
  headers: z
    .array(z.string().trim().min(1).toLowerCase())
    .min(1)
    .refine((names) => !names.includes('signature'), 'cannot sign the signature header itself')
    .optional(),
});

const positiveInt = z.number().int().positive();

/** `banks.<bank>.transport`: how hard bankgate tries, and when it stops trying. */
export const transportSchema = z
  .strictObject({
    timeouts: z
      .strictObject({
        /** TCP + TLS handshake. */
        connectMs: positiveInt.default(10_000),
        /** From the request sent to the response headers. */
        headersMs: positiveInt.default(30_000),
        /** Longest silence between two chunks of the response body. */
        bodyMs: positiveInt.default(30_000),
        /**
         * A deadline per attempt, from the request sent to the last byte of the response body: a bank that
         * trickles its body (each chunk within `bodyMs`) still ends here (`bank_timeout`, counted by the breaker).
         */
        totalMs: positiveInt.default(60_000),
      })
      .default({ connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000, totalMs: 60_000 }),
    /** Largest response body accepted, after decompression. */
    maxResponseBytes: positiveInt.default(10 * 1024 * 1024),
    /** Largest request body a caller may send to this bank's operations: checked on Content-Length, enforced while reading (413). */
    maxRequestBytes: positiveInt.default(1024 * 1024),
    /** How long an idle pooled connection is kept. */
    keepAliveMs: positiveInt.default(10_000),
    /**
     * Retries of idempotent calls (GET, HEAD, PUT, DELETE, OPTIONS) on 502/503/504, connection errors and
     * timeouts, with exponential backoff and full jitter. A POST is retried only when it carries
     * `idempotencyKeyHeader`.
     */
    retries: z
      .strictObject({
        max: z.number().int().min(0).max(10).default(2),
        baseDelayMs: positiveInt.default(100),
        maxDelayMs: positiveInt.default(2_000),
      })
      .default({ max: 2, baseDelayMs: 100, maxDelayMs: 2_000 }),
    /** A request header the bank documents as making a POST safe to repeat (e.g. `Idempotency-Key`). */
    idempotencyKeyHeader: z.string().min(1).toLowerCase().optional(),
    /**
     * The circuit breaker: opens after `failureThreshold` consecutive failures, or when at least
     * `failureRate` of the last `windowSize` calls failed; lets one probe through after `coolDownMs`, a cool-down
     * that doubles after each failed probe up to `maxCoolDownMs` (a burst costs seconds, an outage few probes).
     */
    breaker: z
      .strictObject({
        enabled: z.boolean().default(true),
        failureThreshold: z.number().int().min(1).default(5),
        failureRate: z.number().gt(0).max(1).default(0.5),
        windowSize: z.number().int().min(2).max(10_000).default(20),
        coolDownMs: positiveInt.default(5_000),
        /** Default: 60 000, or `coolDownMs` when that is longer. */
        maxCoolDownMs: positiveInt.optional(),
      })
      .refine((breaker) => breaker.maxCoolDownMs === undefined || breaker.maxCoolDownMs >= breaker.coolDownMs, { message: 'must be at least coolDownMs', path: ['maxCoolDownMs'] })
      .transform((breaker) => ({ ...breaker, maxCoolDownMs: breaker.maxCoolDownMs ?? Math.max(60_000, breaker.coolDownMs) }))
      .default({ enabled: true, failureThreshold: 5, failureRate: 0.5, windowSize: 20, coolDownMs: 5_000, maxCoolDownMs: 60_000 }),
    /**
     * Send `accept-encoding: gzip, deflate, br`. Off by default (banks' JSON is small and the gateway sits
     * close to them); compressed answers are decoded either way, so a body and its headers always agree.
     */
    acceptCompressed: z.boolean().default(false),
  })
  .default({
    timeouts: { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000, totalMs: 60_000 },
    maxResponseBytes: 10 * 1024 * 1024,
    maxRequestBytes: 1024 * 1024,
    keepAliveMs: 10_000,
    retries: { max: 2, baseDelayMs: 100, maxDelayMs: 2_000 },
    breaker: { enabled: true, failureThreshold: 5, failureRate: 0.5, windowSize: 20, coolDownMs: 5_000, maxCoolDownMs: 60_000 },
    acceptCompressed: false,
  });

export type SigningConfig = z.output<typeof signingSchema>;
export type TransportConfig = z.output<typeof transportSchema>;
