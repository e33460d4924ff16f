/* tslint:disable */
/* eslint-disable */
export * from './AccountAccessApi';
export * from './AccountsApi';
export * from './BalancesApi';
export * from './BeneficiariesApi';
export * from './DirectDebitsApi';
export * from './OffersApi';
export * from './PartiesApi';
export * from './ProductsApi';
export * from './ScheduledPaymentsApi';
export * from './StandingOrdersApi';
export * from './StatementsApi';
export * from './TransactionsApi';
