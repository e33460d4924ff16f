import { describe, expect, it } from 'vitest';
import { manifests } from '../../../generated/index.js';
import { intentClaims, ukOpenBanking } from './uk-open-banking.js';

describe('the uk-open-banking protocol, bank-independent parts', () => {
  it('counts the AIS account reads as unattended reads, and nothing of the consent, payment, VRP or CBPII endpoints', () => {
    const counted = (api: keyof typeof manifests.ukob) =>
      manifests.ukob[api].routes.filter((route) => ukOpenBanking.countsAsUnattendedRead({ method: route.method, operationId: route.operationId, headers: route.params.header })).map((r) => r.operationId);
    const ais = counted('aisp');
    expect(ais).toContain('GetAccounts');
    expect(ais).toContain('GetAccountsAccountIdTransactions');
    expect(ais).not.toContain('GetAccountAccessConsentsConsentId');
    // Every PSU-token GET of the AIS spec is an account read.
    expect(ais.sort()).toEqual(manifests.ukob.aisp.routes.filter((r) => r.method === 'get' && r.tokenKind === 'psu').map((r) => r.operationId).sort());
    expect(counted('pisp')).toEqual([]);
    expect(counted('cbpii')).toEqual([]);
    expect(counted('vrp')).toEqual([]);
  });

  it('binds the authorization to the intent as an essential claim of both the id_token and userinfo', () => {
    expect(JSON.parse(intentClaims('aac-1'))).toEqual({
      id_token: { openbanking_intent_id: { value: 'aac-1', essential: true } },
      userinfo: { openbanking_intent_id: { value: 'aac-1', essential: true } },
    });
  });

  /** The international payment order operations of the 4.0 PISP spec, by the spec's operationIds. */
  const INTERNATIONAL = [
    'CreateInternationalPaymentConsents',
    'CreateInternationalPayments',
    'CreateInternationalScheduledPaymentConsents',
    'CreateInternationalScheduledPayments',
    'CreateInternationalStandingOrderConsents',
    'CreateInternationalStandingOrders',
    'GetInternationalPaymentConsentsConsentId',
    'GetInternationalPaymentConsentsConsentIdFundsConfirmation',
    'GetInternationalPaymentsInternationalPaymentId',
    'GetInternationalPaymentsInternationalPaymentIdPaymentDetails',
    'GetInternationalScheduledPaymentConsentsConsentId',
    'GetInternationalScheduledPaymentConsentsConsentIdFundsConfirmation',
    'GetInternationalScheduledPaymentsInternationalScheduledPaymentId',
    'GetInternationalScheduledPaymentsInternationalScheduledPaymentIdPaymentDetails',
    'GetInternationalStandingOrderConsentsConsentId',
    'GetInternationalStandingOrdersInternationalStandingOrderPaymentId',
    'GetInternationalStandingOrdersInternationalStandingOrderPaymentIdPaymentDetails',
  ];

  it('answers every operation of the payment types it cannot authorise yet as unsupported, and nothing else', () => {
    const unsupported = (api: keyof typeof manifests.ukob) =>
      manifests.ukob[api].routes.filter((route) => ukOpenBanking.unsupported?.({ method: route.method, operationId: route.operationId, headers: route.params.header }) !== undefined).map((r) => r.operationId);
    expect(unsupported('aisp')).toEqual([]);
    expect(unsupported('cbpii')).toEqual([]);
    // VRP: all but the amendment of a consent (a changed mandate the PSU has not authorised).
    expect(unsupported('vrp').sort()).toEqual(['domesticVrpConsentsPatch', 'domesticVrpConsentsPut']);
    expect(ukOpenBanking.unsupported?.({ method: 'put', operationId: 'domesticVrpConsentsPut', headers: [] })).toContain('amending a VRP consent');
    // PISP: the domestic and international payments, scheduled payments and standing orders; not file payments.
    const served = manifests.ukob.pisp.routes.map((r) => r.operationId).filter((id) => !unsupported('pisp').includes(id));
    expect(served.sort()).toEqual(
      [
        'CreateDomesticPaymentConsents',
        'CreateDomesticPayments',
        'CreateDomesticScheduledPaymentConsents',
        'CreateDomesticScheduledPayments',
        'CreateDomesticStandingOrderConsents',
        'CreateDomesticStandingOrders',
        'GetDomesticPaymentConsentsConsentId',
        'GetDomesticPaymentConsentsConsentIdFundsConfirmation',
        'GetDomesticPaymentsDomesticPaymentId',
        'GetDomesticPaymentsDomesticPaymentIdPaymentDetails',
        'GetDomesticScheduledPaymentConsentsConsentId',
        'GetDomesticScheduledPaymentsDomesticScheduledPaymentId',
        'GetDomesticScheduledPaymentsDomesticScheduledPaymentIdPaymentDetails',
        'GetDomesticStandingOrderConsentsConsentId',
        'GetDomesticStandingOrdersDomesticStandingOrderId',
        'GetDomesticStandingOrdersDomesticStandingOrderIdPaymentDetails',
        ...INTERNATIONAL,
      ].sort(),
    );
    expect(unsupported('pisp').every((id) => /FilePayment/.test(id))).toBe(true);
    const why = ukOpenBanking.unsupported?.({ method: 'post', operationId: 'CreateFilePaymentConsents', headers: [] });
    expect(why).toContain('file payments');
  });

  it('calls with the PSU token and no header of its own', () => {
    expect(ukOpenBanking.callCredentials({} as never)).toEqual({ headers: {}, token: 'required' });
  });
});
