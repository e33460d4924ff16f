/* tslint:disable */
/* eslint-disable */
export * from './AccountInformationServiceAISApi';
export * from './ConfirmationOfFundsServicePIISApi';
export * from './ListOfTrustedBeneficiariesApi';
export * from './PaymentInitiationServicePISApi';
export * from './SigningBasketsServiceSBSApi';
