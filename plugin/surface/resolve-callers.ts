import type { z } from 'zod';
import type { ProblemCollector } from '../config/secret-ref.js';
import type { callersSchema } from './config-schema.js';

export interface StaticCaller {
  readonly id: string;
  readonly key: string;
  readonly allow: readonly string[];
}

export interface ResolvedCallers {
  /** Undefined when no static key was configured at all: the gateway then generates a dev key and prints it. */
  readonly devKey?: string;
  readonly keys: readonly StaticCaller[];
  readonly jwt?: NonNullable<z.output<typeof callersSchema>['jwt']>;
}

export function resolveCallers(callers: z.output<typeof callersSchema>, collector: ProblemCollector): ResolvedCallers {
  const configured = Object.keys(callers.keys).length > 0 || callers.jwt !== undefined;
  // BANKGATE_DEV_KEY only stands in when nothing else authenticates callers: production config never gets a
  // surprise all-powerful key from the environment.
  const devKey = callers.devKey ? collector.read(callers.devKey, 'callers.devKey') : configured ? undefined : collector.env.BANKGATE_DEV_KEY || undefined;
  if (devKey !== undefined && devKey.length < 16) collector.add('callers.devKey: the key must be at least 16 characters');
  if (devKey !== undefined && /[\s,]/.test(devKey)) collector.add('callers.devKey: the key must not contain whitespace or ","');
  const keys: StaticCaller[] = [];
  for (const [id, entry] of Object.entries(callers.keys)) {
    const key = collector.read(entry.key, `callers.keys.${id}.key`);
    if (key === undefined) continue;
    if (key.length < 16) collector.add(`callers.keys.${id}.key: the key must be at least 16 characters`);
    // Sent as `Bearer <key>`: a comma would read as two Authorization headers, whitespace as none.
    if (/[\s,]/.test(key)) collector.add(`callers.keys.${id}.key: the key must not contain whitespace or ","`);
    keys.push({ id, key, allow: entry.allow });
  }
  if (callers.jwt && !/^https:\/\//.test(callers.jwt.jwksUrl) && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(callers.jwt.jwksUrl)) {
    collector.add('callers.jwt.jwksUrl: must be https (plain http only on loopback)');
  }
  return { devKey, keys, jwt: callers.jwt };
}
