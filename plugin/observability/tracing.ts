import { SpanKind, SpanStatusCode, context, propagation, trace, type Span, type TracerProvider } from '@opentelemetry/api';
import { createMiddleware } from 'hono/factory';

export interface TracingVariables {
  /** The server span of this request; handlers name it after the route they matched. */
  span?: Span;
}

/**
 * One OpenTelemetry server span per request. Written here rather than taken from `@hono/otel`, which
 * records the full URL (on `/callback/{bank}` that is the OAuth `code` and `state`) and names every bank
 * call after the catch-all Hono route. This records the path without its query and no header at all;
 * the bank-call middleware renames the span to the operation's gateway route.
 */
export function tracing(options: { tracerProvider?: TracerProvider; serviceName?: string } = {}) {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('bankgate');
  return createMiddleware<{ Variables: TracingVariables }>(async function bankgateTracing(c, next) {
    const parent = propagation.extract(context.active(), c.req.header());
    const path = new URL(c.req.url).pathname;
    const span = tracer.startSpan(`${c.req.method} ${c.req.routePath === '/*' ? 'bank call' : c.req.routePath}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': c.req.method, 'url.path': path, ...(options.serviceName ? { 'service.name': options.serviceName } : {}) },
    }, parent);
    c.set('span', span);
    try {
      await context.with(trace.setSpan(parent, span), next);
      span.setAttribute('http.response.status_code', c.res.status);
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
