/* tslint:disable */
/* eslint-disable */
export * from './AccountsApi';
