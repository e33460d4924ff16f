/* tslint:disable */
/* eslint-disable */
export * from './AccountReference';
export * from './Amount';
export * from './AuthenticationMethodSelection';
export * from './Authorisation';
export * from './AuthorisationLinks';
export * from './AuthorisationList';
export * from './Error400';
export * from './Href';
export * from './PaymentInitiation';
export * from './PaymentInitiationResponse';
export * from './PaymentInitiationResponseLinks';
export * from './PaymentInitiationWithStatus';
export * from './PaymentStatusResponse';
export * from './PaymentStatusResponseLinks';
export * from './ScaMethod';
export * from './TppMessage';
export * from './TransactionStatus';
