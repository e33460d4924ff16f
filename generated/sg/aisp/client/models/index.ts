/* tslint:disable */
/* eslint-disable */
export * from './AccountIdentification';
export * from './AccountResource';
export * from './AccountResourceLinks';
export * from './AccountsResponse';
export * from './AccountsResponseLinks';
export * from './AmountType';
export * from './BalanceResource';
export * from './BalancesResponse';
export * from './BalancesResponseLinks';
export * from './ErrorModel';
export * from './HrefType';
export * from './TransactionResource';
export * from './TransactionsResponse';
export * from './TransactionsResponseLinks';
