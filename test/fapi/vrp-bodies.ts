/** UK Open Banking 4.0 domestic VRP request bodies for the tests: a consent with its limits, and a payment under it. */
import { randomUUID } from 'node:crypto';

const CREDITOR = { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325698', Name: 'ACME Sweeping Ltd' };

export interface VrpLimits {
  /** MaximumIndividualAmount, GBP. */
  readonly maximum?: string;
  /** PeriodicLimits: one entry. */
  readonly period?: { readonly type: string; readonly alignment: 'Consent' | 'Calendar'; readonly amount: string };
  readonly validFrom?: string;
  readonly validTo?: string;
}

/** A `POST /domestic-vrp-consents` body (sweeping, no SCA per payment, a fixed creditor), its reference unique. */
export function vrpConsentBody(limits: VrpLimits = {}) {
  const period = limits.period ?? { type: 'Day', alignment: 'Consent', amount: '60.00' };
  return {
    Data: {
      ControlParameters: {
        ...(limits.validFrom ? { ValidFromDateTime: limits.validFrom } : {}),
        ...(limits.validTo ? { ValidToDateTime: limits.validTo } : {}),
        MaximumIndividualAmount: { Amount: limits.maximum ?? '30.00', Currency: 'GBP' },
        PeriodicLimits: [{ PeriodType: period.type, PeriodAlignment: period.alignment, Amount: period.amount, Currency: 'GBP' }],
        VRPType: ['UK.OBIE.VRPType.Sweeping'],
        PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
      },
      Initiation: { CreditorAccount: CREDITOR, RemittanceInformation: { Unstructured: [`SWEEP-${randomUUID().slice(0, 8)}`] } },
    },
    Risk: { PaymentContextCode: 'TransferToSelf' },
  };
}

/** A `POST /domestic-vrps` body under the consent: its Initiation, an instruction of `amount` GBP to its creditor. */
export function vrpPaymentBody(consentId: string, consent: ReturnType<typeof vrpConsentBody>, amount: string) {
  return {
    Data: {
      ConsentId: consentId,
      PSUAuthenticationMethod: 'UK.OBIE.SCANotRequired',
      VRPType: 'UK.OBIE.VRPType.Sweeping',
      Initiation: structuredClone(consent.Data.Initiation),
      Instruction: {
        InstructionIdentification: `VRP-${randomUUID().slice(0, 8)}`,
        EndToEndIdentification: `E2E-${randomUUID().slice(0, 8)}`,
        InstructedAmount: { Amount: amount, Currency: 'GBP' },
        CreditorAccount: CREDITOR,
      },
    },
    Risk: structuredClone(consent.Risk),
  };
}
