/* tslint:disable */
/* eslint-disable */
export * from './FundsConfirmationsApi';
