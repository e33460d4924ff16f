/**
 * What the UK Open Banking protocol asks the bank for when a connection is made (`banks.<bank>.consent` with
 * `protocol: 'uk-open-banking'`). Checked once at start.
 */
import { z } from 'zod';

/** The 4.0 account-access permissions (OB_Internal_CodeSet `OBInternalPermissions1Code`). */
export const ACCOUNT_PERMISSIONS = [
  'ReadAccountsBasic',
  'ReadAccountsDetail',
  'ReadBalances',
  'ReadBeneficiariesBasic',
  'ReadBeneficiariesDetail',
  'ReadDirectDebits',
  'ReadOffers',
  'ReadPAN',
  'ReadParty',
  'ReadPartyPSU',
  'ReadProducts',
  'ReadScheduledPaymentsBasic',
  'ReadScheduledPaymentsDetail',
  'ReadStandingOrdersBasic',
  'ReadStandingOrdersDetail',
  'ReadStatementsBasic',
  'ReadStatementsDetail',
  'ReadTransactionsBasic',
  'ReadTransactionsCredits',
  'ReadTransactionsDebits',
  'ReadTransactionsDetail',
] as const;

type Permission = (typeof ACCOUNT_PERMISSIONS)[number];

/** Accounts with their identification, balances, and every transaction in detail. */
export const DEFAULT_ACCOUNT_PERMISSIONS: readonly Permission[] = ['ReadAccountsDetail', 'ReadBalances', 'ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'];

/**
 * The members of `banks.<bank>.consent` only the `uk-open-banking` protocol reads, beside the fields every protocol
 * shares (the protocol's schema is in plugin/consent/config-schema.ts).
 */
export const ukOpenBankingFields = {
  /** The account-access consent's `Data.Permissions`. */
  permissions: z.array(z.enum(ACCOUNT_PERMISSIONS)).min(1).default(() => [...DEFAULT_ACCOUNT_PERMISSIONS]),
  /** `Data.ExpirationDateTime` this many days ahead; absent: none (the bank's own limit). */
  expiresInDays: z.number().int().min(1).max(3650).optional(),
  /**
   * `true`: once the PSU has authorised a payment order consent (domestic or international payment, scheduled payment, standing order), the gateway
   * submits the payment order itself (its `Initiation` and `Risk` as the consent holds them, signed, under a key derived
   * from the consent: never twice) and shows its id on the connection (`consent.data.paymentId`). `false` (default): the caller submits it with the connection.
   */
  submitPayments: z.boolean().default(false),
};
