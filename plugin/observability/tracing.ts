import { SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { createMiddleware } from 'hono/factory';

export interface TracingVariables {
  /** The server span of this request; handlers name it after the route they matched. */
  span?: Span;
}

export interface TracingOptions {
  readonly tracerProvider?: TracerProvider;
  readonly serviceName?: string;
}

/** A started server span and the context it runs in. */
export interface ServerSpan {
  readonly span: Span;
  readonly context: Context;
}

/**
 * Starts the server span of one request, the same way for the Hono middleware and the Node fast path: the
 * path without its query and no header at all (headers only feed W3C trace-context propagation).
 */
export function serverSpanStarter(options: TracingOptions = {}) {
  const tracer: Tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('bankgate');
  const service = options.serviceName ? { 'service.name': options.serviceName } : {};
  return function startServerSpan(method: string, path: string, routeName: string, headers: Record<string, string | string[] | undefined>): ServerSpan {
    const parent = propagation.extract(context.active(), headers);
    const span = tracer.startSpan(`${method} ${routeName}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path, ...service } }, parent);
    return { span, context: trace.setSpan(parent, span) };
  };
}

/** Records the status the caller got and ends the span. */
export function endServerSpan(span: Span, status: number, failed = false): void {
  span.setAttribute('http.response.status_code', status);
  if (failed || status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/**
 * One OpenTelemetry server span per request. Written here rather than taken from `@hono/otel`, which
 * records the full URL (on `/callback/{bank}` that is the OAuth `code` and `state`) and names every bank
 * call after the catch-all Hono route. This records the path without its query and no header at all;
 * the bank-call pipeline renames the span to the operation's gateway route.
 */
export function tracing(options: TracingOptions = {}) {
  const start = serverSpanStarter(options);
  return createMiddleware<{ Variables: TracingVariables }>(async function bankgateTracing(c, next) {
    const { span, context: active } = start(c.req.method, new URL(c.req.url).pathname, c.req.routePath === '/*' ? 'bank call' : c.req.routePath, c.req.header());
    c.set('span', span);
    try {
      await context.with(active, next);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw error;
    }
    endServerSpan(span, c.res.status);
  });
}
