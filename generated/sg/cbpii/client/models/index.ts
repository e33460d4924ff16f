/* tslint:disable */
/* eslint-disable */
export * from './AmountType';
export * from './ErrorModel';
export * from './PaymentCoverageReportResponse';
export * from './PaymentCoverageReportResponseLinks';
export * from './PaymentCoverageReportResponseLinksSelf';
export * from './PaymentCoverageRequestResource';
export * from './PaymentCoverageRequestResourceAccountId';
