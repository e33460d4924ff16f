import { OB_ERROR, obError } from './errors.js';

/** The account identification schemes this bank takes in a payment's `Initiation`. */
const SUPPORTED_SCHEMES = new Set(['UK.OBIE.SortCodeAccountNumber', 'UK.OBIE.IBAN']);

/**
 * The 400 for an `Initiation` (or a VRP `Instruction`), at `path`, whose creditor or debtor account is in a scheme the
 * bank does not take, else undefined.
 */
export function unsupportedSchemeProblem(holder: { readonly CreditorAccount?: { readonly SchemeName: string }; readonly DebtorAccount?: { readonly SchemeName: string } }, path = 'Data.Initiation'): Response | undefined {
  for (const [field, account] of [['CreditorAccount', holder.CreditorAccount], ['DebtorAccount', holder.DebtorAccount]] as const) {
    if (account && !SUPPORTED_SCHEMES.has(account.SchemeName)) {
      return obError(400, OB_ERROR.unsupportedScheme, `${account.SchemeName} is not supported (${[...SUPPORTED_SCHEMES].join(', ')})`, `${path}.${field}.SchemeName`);
    }
  }
  return undefined;
}
