/* tslint:disable */
/* eslint-disable */
export * from './DomesticPaymentsApi';
export * from './DomesticScheduledPaymentsApi';
export * from './DomesticStandingOrdersApi';
export * from './FilePaymentsApi';
export * from './InternationalPaymentsApi';
export * from './InternationalScheduledPaymentsApi';
export * from './InternationalStandingOrdersApi';
export * from './PaymentDetailsApi';
