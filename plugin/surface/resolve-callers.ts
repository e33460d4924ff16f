import type { z } from 'zod';
import type { ProblemCollector } from '../config/secret-ref.js';
import type { callersSchema } from './config-schema.js';

export interface ResolvedCallers {
  /** Undefined when none was configured: the gateway then generates one and prints it. */
  readonly devKey?: string;
}

export function resolveCallers(callers: z.output<typeof callersSchema>, collector: ProblemCollector): ResolvedCallers {
  const devKey = callers.devKey ? collector.read(callers.devKey, 'callers.devKey') : collector.env.BANKGATE_DEV_KEY || undefined;
  if (devKey !== undefined && devKey.length < 16) collector.add('callers.devKey: the key must be at least 16 characters');
  return { devKey };
}
