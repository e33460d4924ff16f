/* tslint:disable */
/* eslint-disable */
export * from './ExternalProxyAccountType1Code';
export * from './Links';
export * from './Meta';
export * from './OBError1';
export * from './OBErrorResponse1';
export * from './OBFundsConfirmation1';
export * from './OBFundsConfirmation1Data';
export * from './OBFundsConfirmation1DataInstructedAmount';
export * from './OBFundsConfirmationConsent1';
export * from './OBFundsConfirmationConsent1Data';
export * from './OBFundsConfirmationConsent1DataDebtorAccount';
export * from './OBFundsConfirmationConsentResponse1';
export * from './OBFundsConfirmationConsentResponse1Data';
export * from './OBFundsConfirmationConsentResponse1DataDebtorAccount';
export * from './OBFundsConfirmationResponse1';
export * from './OBFundsConfirmationResponse1Data';
export * from './OBProxy1';
export * from './OBStatusReason';
