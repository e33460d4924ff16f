/* tslint:disable */
/* eslint-disable */
export * from './AccountDetails';
export * from './AccountDetailsResponse';
export * from './AccountLinks';
export * from './AccountList';
export * from './AccountReference';
export * from './Amount';
export * from './Balance';
export * from './Error400';
export * from './Href';
export * from './ReadAccountBalanceResponse';
export * from './TppMessage';
export * from './Transaction';
export * from './TransactionsResponse';
export * from './TransactionsResponseTransactions';
export * from './TransactionsResponseTransactionsLinks';
