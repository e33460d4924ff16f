import { ConfigError, type ResolvedBank } from '../../../config/resolve-config.js';
import { ProblemCollector, type RuntimeEnv } from '../../../config/secret-ref.js';
import { silentLogger, type Logger } from '../../../log.js';
import { MetricsRegistry } from '../../../observability/metrics.js';
import { createBankTransport, type ConfiguredBankTransport } from '../../../transport/bank-transport.js';
import { nodeRuntime } from '../runtime.js';

export interface NodeBankTransportOptions {
  /** Where `{ env }` references are read; default `process.env`. */
  readonly env?: RuntimeEnv;
  readonly metrics?: MetricsRegistry;
  readonly log?: Logger;
}

/**
 * The transport `createGateway` builds for one configured bank on Node, on its own (tests, tools): the
 * bank's QWAC and per-API overrides read and checked now, retries and breaker around them. Every problem is
 * thrown together as a `ConfigError` under its path.
 * @example const transport = await nodeBankTransport((await resolveConfig(config, nodeRuntime())).banks.get('sg')!);
 */
export async function nodeBankTransport(bank: ResolvedBank, options: NodeBankTransportOptions = {}): Promise<ConfiguredBankTransport> {
  const runtime = nodeRuntime(options.env ? { env: options.env } : {});
  const problems = new ProblemCollector(runtime);
  const context = { metrics: options.metrics ?? new MetricsRegistry(), log: options.log ?? silentLogger, problems, now: Date.now };
  const transport = await createBankTransport(bank, runtime, context);
  if (!transport || problems.problems.length > 0) {
    await transport?.close();
    throw new ConfigError(problems.problems);
  }
  return transport;
}
