import { z } from 'zod';
import { secretRefSchema } from './secret-ref.js';

/**
 * `banks.<bank>.credentials.<scheme>`: what the bank's security schemes need besides OAuth tokens, by the scheme's
 * name in the spec, each secret by reference (`{ env }`, `{ file }`):
 * - `{ apiKey: ref }` for an `apiKey` scheme (sent in the header, query parameter or cookie the spec names);
 * - `{ bearer: ref }` a static bearer (a personal access token) for an `http` bearer scheme that is not OAuth;
 * - `{ basic: { username, password: ref } }` for an `http` basic scheme.
 * Never from callers: the gateway drops a caller's value for these headers, query parameters and cookies.
 */
export const credentialSchema = z.union([
  z.strictObject({ apiKey: secretRefSchema }),
  z.strictObject({ bearer: secretRefSchema }),
  z.strictObject({ basic: z.strictObject({ username: z.string().min(1), password: secretRefSchema }) }),
]);
export type CredentialConfig = z.infer<typeof credentialSchema>;

/**
 * `apis.<api>.authorization` (or `banks.<bank>.authorization` for every API): the token for operations that declare an
 * `Authorization` header but no security scheme. `{ token: 'psu' }` (the PSU's, by `X-Connection-Id`),
 * `{ token: 'client', scopes }` (client credentials), `{ token: 'none' }`, or `{ credential: '<name>' }` (a `bearer` or
 * `basic` entry of `credentials`).
 */
export const authorizationChoiceSchema = z.union([
  z.strictObject({ token: z.enum(['psu', 'client', 'none']), scopes: z.array(z.string().min(1)).default([]) }),
  z.strictObject({ credential: z.string().min(1) }),
]);
export type AuthorizationChoice = z.output<typeof authorizationChoiceSchema>;
