import { z } from 'zod';
import { secretRefSchema } from '../config/secret-ref.js';

/** `banks.<bank>.mtls`: the QWAC presented on every call and token request, and the bank's CA. */
export const mtlsSchema = z.strictObject({
  cert: secretRefSchema,
  key: secretRefSchema,
  /** The bank's CA (PEM) that its servers must chain to; the system roots when absent. */
  ca: secretRefSchema.optional(),
});

/** `banks.<bank>.signing`: draft-cavage request signing with the QSeal key. */
export const signingSchema = z.strictObject({ keyId: z.string().min(1), key: secretRefSchema });
