import { AsyncLocalStorage } from 'node:async_hooks';

/** The inbound request a piece of work belongs to: lets every log line carry its request id. */
export interface RequestContext {
  readonly requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();
