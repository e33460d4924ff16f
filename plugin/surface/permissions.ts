/**
 * Caller permissions: `*`, `<bank>/*`, `<bank>/<api>/*`, `<bank>/<api>/<operationId>`.
 */
export function allowsOperation(allow: readonly string[], bank: string, api: string, operationId: string): boolean {
  for (const p of allow) {
    if (p === '*' || p === `${bank}/*` || p === `${bank}/${api}/*` || p === `${bank}/${api}/${operationId}`) return true;
  }
  return false;
}

/** A caller may start a consent at a bank where it may use at least one operation. */
export function allowsBank(allow: readonly string[], bank: string): boolean {
  return allow.some((p) => p === '*' || p.startsWith(`${bank}/`));
}
