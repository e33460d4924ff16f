/** Test helpers for the sandbox's control plane: fault rules and the bank's own path of an API. */
import type { SandboxFile } from '../../sandbox/sandbox-file.js';

export interface ResourceFault {
  bank: 'seb' | 'sg';
  action: 'delay' | 'status' | 'close' | 'gzip' | 'drop-response';
  pathPrefix?: string;
  method?: string;
  delayMs?: number;
  status?: number;
  times?: number;
}

export async function armFaults(sandbox: SandboxFile, rules: ResourceFault[]): Promise<void> {
  const response = await fetch(`${sandbox.controlUrl}/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rules.map((rule) => ({ target: 'resource', ...rule }))),
  });
  if (response.status !== 200) throw new Error(`arming faults: ${response.status} ${await response.text()}`);
}

export async function clearFaults(sandbox: SandboxFile): Promise<void> {
  await fetch(`${sandbox.controlUrl}/faults`, { method: 'DELETE' });
}

/** The bank-side path of an API (`/sg/sb/dsp2/pisp/v1.4.2.15`), for fault `pathPrefix`es. */
export function bankPath(sandbox: SandboxFile, bank: 'seb' | 'sg', api: string): string {
  return new URL(sandbox.banks[bank].apis[api]!).pathname.replace(/\/$/, '');
}

export { SG_PAYMENT } from '../fixtures/sg-payment.js';
