/* tslint:disable */
/* eslint-disable */
export * from './AISPApi';
