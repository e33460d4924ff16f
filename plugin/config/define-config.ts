import type { BankgateConfig } from './schema.js';

/** A config, or a function that builds it when the gateway starts (to read files that exist only then). */
export type ConfigInput = BankgateConfig | (() => BankgateConfig | Promise<BankgateConfig>);

/**
 * Types `hono.config.ts`. Validation happens once, when the gateway starts (`resolveConfig`).
 * @example export default defineConfig({ banks: { seb: { … } } })
 */
export function defineConfig<T extends ConfigInput>(config: T): T {
  return config;
}
