/* tslint:disable */
/* eslint-disable */
export * from './DomesticVRPConsentsApi';
export * from './DomesticVRPsApi';
