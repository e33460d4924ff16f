/**
 * The sandbox PSUs and their accounts: fixed, realistic data (valid IBAN check digits, balances that match the
 * transactions' sum) so that clients can be tested against something that looks like a bank, not `foo`.
 */

export interface SandboxTransaction {
  readonly id: string;
  readonly bookingDate: string;
  readonly valueDate: string;
  /** Signed decimal: negative for a debit. */
  readonly amount: string;
  readonly counterparty: string;
  readonly remittance: string;
  readonly status: 'booked' | 'pending';
}

export interface SandboxAccount {
  readonly resourceId: string;
  readonly iban: string;
  readonly bban: string;
  readonly bic: string;
  readonly currency: string;
  readonly name: string;
  readonly product: string;
  readonly cashAccountType: 'CACC' | 'CARD';
  readonly usage: 'PRIV' | 'ORGA';
  /** Booked balance at the end of yesterday. */
  readonly booked: string;
  /** Booked balance plus pending transactions. */
  readonly available: string;
  readonly transactions: readonly SandboxTransaction[];
}

export interface SandboxPsu {
  readonly id: string;
  readonly name: string;
  readonly accounts: readonly SandboxAccount[];
}

/** ISO 13616 check digits: the IBAN moved to the end, letters as numbers, 98 − (n mod 97). */
export function iban(country: string, bban: string): string {
  const numeric = `${bban}${country}00`.replace(/[A-Z]/g, (ch) => String(ch.charCodeAt(0) - 55));
  let remainder = 0;
  for (const digit of numeric) remainder = (remainder * 10 + Number(digit)) % 97;
  return `${country}${String(98 - remainder).padStart(2, '0')}${bban}`;
}

function isoDate(daysAgo: number): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
}

function cents(amount: string): number {
  return Math.round(Number(amount) * 100);
}

function decimal(value: number): string {
  return (value / 100).toFixed(2);
}

export interface AccountSeed {
  resourceId: string;
  bban: string;
  name: string;
  product: string;
  cashAccountType?: 'CACC' | 'CARD';
  usage?: 'PRIV' | 'ORGA';
  opening: string;
  /** [days ago, signed amount, counterparty, remittance, pending?] */
  movements: ReadonlyArray<readonly [number, string, string, string, boolean?]>;
}

/** A sandbox account from its seed: IBAN check digits computed, balances summed from the movements. */
export function account(country: string, bic: string, currency: string, seed: AccountSeed): SandboxAccount {
  const transactions = seed.movements.map(([daysAgo, amount, counterparty, remittance, pending], index) => ({
    id: `${seed.resourceId}-t${String(index + 1).padStart(3, '0')}`,
    bookingDate: isoDate(daysAgo),
    valueDate: isoDate(daysAgo),
    amount,
    counterparty,
    remittance,
    status: pending ? ('pending' as const) : ('booked' as const),
  }));
  const booked = transactions.filter((t) => t.status === 'booked').reduce((sum, t) => sum + cents(t.amount), cents(seed.opening));
  const available = transactions.filter((t) => t.status === 'pending').reduce((sum, t) => sum + cents(t.amount), booked);
  return {
    resourceId: seed.resourceId,
    iban: iban(country, seed.bban),
    bban: seed.bban,
    bic,
    currency,
    name: seed.name,
    product: seed.product,
    cashAccountType: seed.cashAccountType ?? 'CACC',
    usage: seed.usage ?? 'PRIV',
    booked: decimal(booked),
    available: decimal(available),
    transactions,
  };
}

const SEB_BIC = 'ESSESESS';
const SG_BIC = 'SOGEFRPP';

function seb(seed: AccountSeed): SandboxAccount {
  return account('SE', SEB_BIC, 'SEK', seed);
}

function sg(seed: AccountSeed): SandboxAccount {
  return account('FR', SG_BIC, 'EUR', seed);
}

/** Like SEB's sandbox identity numbers (Swedish personal numbers of test persons). */
export const SEB_PSUS: readonly SandboxPsu[] = [
  {
    id: '9311219639',
    name: 'Anna Andersson',
    accounts: [
      seb({
        resourceId: 'a7c1f9d2-3b64-4c2e-9f10-5e2d8b0c4a01',
        bban: '50000000054400047881',
        name: 'Privatkonto',
        product: 'Privatkonto',
        opening: '18250.00',
        movements: [
          [9, '32500.00', 'Arbetsgivaren AB', 'LÖN'],
          [7, '-8950.00', 'Bostadsrättsföreningen Ekbacken', 'AVGIFT BRF'],
          [5, '-1249.50', 'ICA Kvantum', 'KORTKÖP'],
          [2, '-349.00', 'SL', 'SL ACCESS'],
          [0, '-89.90', 'Spotify', 'SPOTIFY P2', true],
        ],
      }),
      seb({
        resourceId: 'a7c1f9d2-3b64-4c2e-9f10-5e2d8b0c4a02',
        bban: '50000000054400047903',
        name: 'Sparkonto',
        product: 'Enkla sparkontot',
        opening: '120000.00',
        movements: [
          [20, '5000.00', 'Anna Andersson', 'MÅNADSSPAR'],
          [1, '5000.00', 'Anna Andersson', 'MÅNADSSPAR'],
        ],
      }),
      seb({
        resourceId: 'a7c1f9d2-3b64-4c2e-9f10-5e2d8b0c4a03',
        bban: '50000000054400047962',
        name: 'Kortkonto',
        product: 'SEB Mastercard',
        cashAccountType: 'CARD',
        opening: '0.00',
        movements: [
          [3, '-2390.00', 'SAS', 'FLYG ARN-GOT'],
          [1, '-612.00', 'Systembolaget', 'KORTKÖP'],
        ],
      }),
    ],
  },
  {
    id: '9311219589',
    name: 'Bertil Berg AB',
    accounts: [
      seb({
        resourceId: 'b93e0d44-71a2-4f5b-8c3d-2a6f1e9b7c11',
        bban: '50000000058398257466',
        name: 'Företagskonto',
        product: 'Företagskonto',
        usage: 'ORGA',
        opening: '845000.00',
        movements: [
          [6, '-125000.00', 'Skatteverket', 'SKATT 202X'],
          [4, '73000.00', 'Kund AB', 'FAKTURA 10233'],
          [0, '-18500.00', 'Leverantör AB', 'FAKTURA 5521', true],
        ],
      }),
      seb({
        resourceId: 'b93e0d44-71a2-4f5b-8c3d-2a6f1e9b7c12',
        bban: '50000000058398257539',
        name: 'Placeringskonto',
        product: 'Placeringskonto Företag',
        usage: 'ORGA',
        opening: '2000000.00',
        movements: [[15, '4380.00', 'SEB', 'RÄNTA']],
      }),
    ],
  },
];

export const SG_PSUS: readonly SandboxPsu[] = [
  {
    id: 'sg-psu-1',
    name: 'Camille Dupont',
    accounts: [
      sg({
        resourceId: 'acc-sg1-cheque',
        bban: '30003012340002012345678',
        name: 'Compte courant',
        product: 'Compte Sobrio',
        opening: '2450.32',
        movements: [
          [8, '2890.00', 'ACME SAS', 'VIR SALAIRE'],
          [6, '-950.00', 'SCI Les Tilleuls', 'LOYER'],
          [4, '-74.28', 'Carrefour Market', 'CB CARREFOUR'],
          [1, '-12.50', 'RATP', 'CB NAVIGO'],
          [0, '-39.99', 'SNCF', 'CB SNCF', true],
        ],
      }),
      sg({
        resourceId: 'acc-sg1-livret',
        bban: '30003012340005098765432',
        name: 'Livret A',
        product: 'Livret A',
        opening: '15300.00',
        movements: [[25, '200.00', 'Camille Dupont', 'VIR EPARGNE']],
      }),
    ],
  },
  {
    id: 'sg-psu-2',
    name: 'Boulangerie Martin SARL',
    accounts: [
      sg({
        resourceId: 'acc-sg2-pro',
        bban: '30003045670002055512340',
        name: 'Compte professionnel',
        product: 'Jazz Pro',
        usage: 'ORGA',
        opening: '38210.75',
        movements: [
          [5, '-4200.00', 'Moulins de France', 'FACT FARINE 0423'],
          [3, '6120.40', 'Encaissements CB', 'REMISE CB'],
          [0, '-1830.00', 'URSSAF', 'PRLV URSSAF', true],
        ],
      }),
      sg({
        resourceId: 'acc-sg2-card',
        bban: '30003045670002055512999',
        name: 'Carte Business',
        product: 'Carte Business Gold',
        cashAccountType: 'CARD',
        usage: 'ORGA',
        opening: '0.00',
        movements: [[2, '-265.00', 'Metro Cash & Carry', 'CB METRO']],
      }),
      sg({
        resourceId: 'acc-sg2-epargne',
        bban: '30003045670005099988877',
        name: 'Compte sur livret',
        product: 'CSL Pro',
        usage: 'ORGA',
        opening: '50000.00',
        movements: [],
      }),
    ],
  },
];

export function findPsu(psus: readonly SandboxPsu[], id: string): SandboxPsu | undefined {
  return psus.find((psu) => psu.id === id);
}
