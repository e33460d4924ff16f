/* tslint:disable */
/* eslint-disable */
export * from './PaymentsApi';
