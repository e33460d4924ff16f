import type { OperationSite } from './operations.js';

/**
 * A stable camelCase name from method and path: `get /accounts/{account-id}/balances` →
 * `getAccountsAccountIdBalances`. Words keep their own casing after the first letter (`IBAN` stays `IBAN`).
 */
export function deriveOperationId(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
  const tail = words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('');
  return `${method.toLowerCase()}${tail === '' ? 'Root' : tail}`;
}

export interface DerivedOperationId {
  readonly pointer: string;
  readonly operationId: string;
}

/**
 * Fills in a derived operationId on every operation that has none (mutating the operation), in document order,
 * never colliding with a declared or earlier derived one (`…2`, `…3`). Returns what it derived.
 */
export function fillOperationIds(sites: readonly OperationSite[]): DerivedOperationId[] {
  const taken = new Set(sites.map((site) => site.operation['operationId']).filter((id): id is string => typeof id === 'string' && id.trim() !== ''));
  const derived: DerivedOperationId[] = [];
  for (const site of sites) {
    const declared = site.operation['operationId'];
    if (typeof declared === 'string' && declared.trim() !== '') continue;
    const base = deriveOperationId(site.method, site.path);
    let operationId = base;
    for (let n = 2; taken.has(operationId); n++) operationId = `${base}${n}`;
    taken.add(operationId);
    site.operation['operationId'] = operationId;
    derived.push({ pointer: site.pointer, operationId });
  }
  return derived;
}
