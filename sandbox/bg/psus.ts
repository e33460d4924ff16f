/**
 * The Berlin-Group-like bank's sandbox PSUs. Each has a profile the bank uses, as a real bank uses its customer
 * records, to choose the SCA approach of a consent or payment once it knows the PSU (from `PSU-ID` or a pre-step
 * token): which online banking it logs into (plain redirect, the OAuth platform, or the corporate portal that wants
 * an OAuth pre-step), whether it has the bank's app (decoupled), and which OTP methods it can use (embedded).
 * The same password and OTP for everyone: they are sandbox credentials, printed in sandbox/bg/README.md.
 */
import { account, type SandboxAccount, type SandboxPsu } from '../data.js';

/** How the PSU signs in at the bank when redirected: the bank's redirect variant for this PSU. */
export type OnlineBanking =
  /** The classic online banking: `scaRedirect`, then the TPP's `authorisationConfirmation` PUT. */
  | 'redirect'
  /** The bank's OAuth authorization server: `scaOAuth`, scope `AIS:<consentId>` / `PIS:<paymentId>`. */
  | 'oauth'
  /** The corporate portal: no XS2A call without an OAuth access token obtained first (pre-step). */
  | 'oauth-pre-step';

/** An SCA method as the bank lists it in `scaMethods` (Berlin Group `authenticationObject`). */
export interface ScaMethod {
  readonly authenticationType: 'SMS_OTP' | 'CHIP_OTP' | 'PHOTO_OTP' | 'PUSH_OTP';
  readonly authenticationMethodId: string;
  readonly name: string;
  readonly explanation: string;
}

export interface BgPsu extends SandboxPsu {
  readonly onlineBanking: OnlineBanking;
  /** Has the bank's app: the decoupled approach is possible. */
  readonly app: boolean;
  /** OTP methods for the embedded approach; empty: no embedded SCA for this PSU. */
  readonly embeddedMethods: readonly ScaMethod[];
}

/** The first factor every sandbox PSU types (embedded `psuData.password`, the bank's login pages). */
export const SANDBOX_PASSWORD = '12345';
/** The OTP every sandbox SCA method "sends" (embedded `scaAuthenticationData`, the bank's login pages). */
export const SANDBOX_OTP = '123456';

const BIC = 'BGSBDEB1XXX';
const BLZ = '10020030';

function bg(accountNumber: string, seed: Omit<Parameters<typeof account>[3], 'bban'>): SandboxAccount {
  return account('DE', BIC, 'EUR', { ...seed, bban: `${BLZ}${accountNumber}` });
}

const SMS: ScaMethod = {
  authenticationType: 'SMS_OTP',
  authenticationMethodId: 'sms-otp',
  name: 'SMS to +49 170 ***4567',
  explanation: 'A one-time password by SMS',
};
const CHIP: ScaMethod = {
  authenticationType: 'CHIP_OTP',
  authenticationMethodId: 'chip-tan',
  name: 'chipTAN (card reader)',
  explanation: 'A TAN from the card reader',
};

export const BG_PSUS: readonly BgPsu[] = [
  {
    id: 'max.mustermann',
    name: 'Max Mustermann',
    onlineBanking: 'redirect',
    app: true,
    embeddedMethods: [SMS, CHIP],
    accounts: [
      bg('0123456789', {
        resourceId: '3dc3d5b3-7023-4848-9853-f5400a64e80f',
        name: 'Girokonto',
        product: 'Girokonto Plus',
        opening: '1520.40',
        movements: [
          [10, '3150.00', 'Muster AG', 'GEHALT'],
          [8, '-1050.00', 'Hausverwaltung Schmidt', 'MIETE'],
          [5, '-86.12', 'REWE Markt', 'KARTENZAHLUNG'],
          [3, '-45.00', 'Stadtwerke', 'ABSCHLAG STROM'],
          [0, '-19.99', 'Streamingdienst', 'ABO', true],
        ],
      }),
      bg('0123456790', {
        resourceId: '3dc3d5b3-7023-4848-9853-f5400a64e810',
        name: 'Tagesgeld',
        product: 'Tagesgeldkonto',
        opening: '8000.00',
        movements: [[30, '500.00', 'Max Mustermann', 'SPAREN']],
      }),
    ],
  },
  {
    id: 'erika.mustermann',
    name: 'Erika Mustermann',
    onlineBanking: 'oauth',
    app: true,
    embeddedMethods: [SMS],
    accounts: [
      bg('0987654321', {
        resourceId: '7f3a1c2e-5d4b-4e6f-8a9b-0c1d2e3f4a51',
        name: 'Girokonto',
        product: 'Girokonto Online',
        opening: '640.10',
        movements: [
          [12, '2480.00', 'Klinikum Nord', 'GEHALT'],
          [9, '-890.00', 'Wohnbau eG', 'MIETE'],
          [4, '-62.40', 'Drogerie', 'KARTENZAHLUNG'],
          [1, '-29.90', 'Mobilfunk GmbH', 'RECHNUNG'],
        ],
      }),
    ],
  },
  {
    id: 'muster.gmbh',
    name: 'Muster Handels GmbH',
    onlineBanking: 'oauth-pre-step',
    app: false,
    embeddedMethods: [],
    accounts: [
      bg('5555000011', {
        resourceId: 'c0ffee00-0000-4000-8000-000000000011',
        name: 'Geschäftskonto',
        product: 'Business Konto',
        usage: 'ORGA',
        opening: '125000.00',
        movements: [
          [7, '-18400.00', 'Lieferant KG', 'RECHNUNG 2231'],
          [3, '32950.00', 'Kunde GmbH', 'RECHNUNG 1007'],
          [0, '-2400.00', 'Finanzamt', 'UMSATZSTEUER', true],
        ],
      }),
    ],
  },
];

export function findBgPsu(id: string | undefined | null): BgPsu | undefined {
  return id ? BG_PSUS.find((psu) => psu.id === id) : undefined;
}
