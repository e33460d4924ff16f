/* tslint:disable */
/* eslint-disable */
export * from './CBPIIApi';
