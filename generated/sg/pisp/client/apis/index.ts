/* tslint:disable */
/* eslint-disable */
export * from './PISPApi';
