/* tslint:disable */
/* eslint-disable */
export * from './AccountIdentification';
export * from './AmountType';
export * from './CreditTransferTransaction';
export * from './CreditTransferTransactionBeneficiary';
export * from './CreditTransferTransactionPaymentId';
export * from './ErrorModel';
export * from './PartyIdentification';
export * from './PaymentRequestCreated';
export * from './PaymentRequestCreatedLinks';
export * from './PaymentRequestCreatedLinksConsentApproval';
export * from './PaymentRequestResource';
export * from './PaymentRequestResourcePaymentTypeInformation';
export * from './PaymentRequestResourceSupplementaryData';
export * from './PaymentRequestResponse';
export * from './PaymentRequestResponsePaymentRequest';
