/**
 * The UK-OB-like bank's PSUs and accounts: GBP accounts identified by sort code and account number
 * (`UK.OBIE.SortCodeAccountNumber`), balances that match the transactions' sum, transactions a few days old.
 */

export interface UkobTransaction {
  readonly id: string;
  /** ISO date-time, UTC. */
  readonly bookingDateTime: string;
  /** Signed decimal: negative for a debit. */
  readonly amount: string;
  readonly counterparty: string;
  readonly reference: string;
  readonly status: 'BOOK' | 'PDNG';
}

export interface UkobAccount {
  /** The bank's AccountId (stable, opaque to the TPP). */
  readonly accountId: string;
  readonly sortCode: string;
  readonly accountNumber: string;
  readonly name: string;
  readonly nickname: string;
  readonly category: 'Personal' | 'Business';
  readonly typeCode: 'CACC' | 'SVGS';
  readonly currency: 'GBP';
  /** Booked balance (CLBD). */
  readonly booked: string;
  /** Booked plus pending (ITAV). */
  readonly available: string;
  readonly transactions: readonly UkobTransaction[];
}

export interface UkobPsu {
  readonly id: string;
  readonly name: string;
  readonly accounts: readonly UkobAccount[];
}

/** The `Identification` of `UK.OBIE.SortCodeAccountNumber`: the 6-digit sort code then the 8-digit account number. */
export function sortCodeAccountNumber(account: UkobAccount): string {
  return `${account.sortCode}${account.accountNumber}`;
}

function pence(amount: string): number {
  return Math.round(Number(amount) * 100);
}

function pounds(value: number): string {
  return (value / 100).toFixed(2);
}

/** `days` days and `hours` hours before the start, to the minute: never in the future. */
function ago(days: number, hours: number): string {
  const date = new Date(Date.now() - days * 86_400_000 - hours * 3_600_000);
  date.setUTCSeconds(0, 0);
  return date.toISOString();
}

interface AccountSeed {
  accountId: string;
  sortCode: string;
  accountNumber: string;
  name: string;
  nickname: string;
  category?: 'Personal' | 'Business';
  typeCode?: 'CACC' | 'SVGS';
  opening: string;
  /** [days ago, signed amount, counterparty, reference, pending?] */
  movements: ReadonlyArray<readonly [number, string, string, string, boolean?]>;
}

function account(seed: AccountSeed): UkobAccount {
  const transactions = seed.movements.map(([days, amount, counterparty, reference, pending], index) => ({
    id: `${seed.accountId}-t${String(index + 1).padStart(3, '0')}`,
    bookingDateTime: ago(days, index + 1),
    amount,
    counterparty,
    reference,
    status: pending ? ('PDNG' as const) : ('BOOK' as const),
  }));
  const booked = transactions.filter((t) => t.status === 'BOOK').reduce((sum, t) => sum + pence(t.amount), pence(seed.opening));
  const available = transactions.filter((t) => t.status === 'PDNG').reduce((sum, t) => sum + pence(t.amount), booked);
  return {
    accountId: seed.accountId,
    sortCode: seed.sortCode,
    accountNumber: seed.accountNumber,
    name: seed.name,
    nickname: seed.nickname,
    category: seed.category ?? 'Personal',
    typeCode: seed.typeCode ?? 'CACC',
    currency: 'GBP',
    booked: pounds(booked),
    available: pounds(available),
    transactions,
  };
}

export const UKOB_PSUS: readonly UkobPsu[] = [
  {
    id: 'ukob-psu-1',
    name: 'Olivia Smith',
    accounts: [
      account({
        accountId: 'acc-ukob1-current',
        sortCode: '404132',
        accountNumber: '71246830',
        name: 'Ms Olivia Smith',
        nickname: 'Everyday',
        opening: '1840.55',
        movements: [
          [9, '2650.00', 'Northwind Ltd', 'SALARY'],
          [7, '-1150.00', 'Riverside Lettings', 'RENT'],
          [5, '-62.18', 'Tesco Stores', 'CARD PAYMENT'],
          [2, '-14.80', 'TfL Travel', 'CONTACTLESS'],
          [0, '-10.99', 'Netflix', 'CARD PAYMENT', true],
        ],
      }),
      account({
        accountId: 'acc-ukob1-savings',
        sortCode: '404132',
        accountNumber: '71246849',
        name: 'Ms Olivia Smith',
        nickname: 'Rainy day',
        typeCode: 'SVGS',
        opening: '8200.00',
        movements: [[20, '250.00', 'Olivia Smith', 'MONTHLY SAVING']],
      }),
    ],
  },
  {
    id: 'ukob-psu-2',
    name: 'Harbour Café Ltd',
    accounts: [
      account({
        accountId: 'acc-ukob2-business',
        sortCode: '309634',
        accountNumber: '19283746',
        name: 'Harbour Cafe Ltd',
        nickname: 'Business current',
        category: 'Business',
        opening: '95.40',
        movements: [
          [4, '-60.00', 'Coastal Dairy', 'INV 2231'],
          [1, '40.00', 'Card takings', 'SETTLEMENT'],
        ],
      }),
    ],
  },
];

/** The sandbox PSU with this id. */
export function findUkobPsu(id: string): UkobPsu | undefined {
  return UKOB_PSUS.find((psu) => psu.id === id);
}

/** The account with this AccountId, and its PSU. */
export function findUkobAccount(accountId: string): { psu: UkobPsu; account: UkobAccount } | undefined {
  for (const psu of UKOB_PSUS) {
    const found = psu.accounts.find((a) => a.accountId === accountId);
    if (found) return { psu, account: found };
  }
  return undefined;
}
