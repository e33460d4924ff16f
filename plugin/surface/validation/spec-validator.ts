import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { BankgateError } from '../../errors/bankgate-error.js';
import type { Logger } from '../../log.js';
import type { MetricsRegistry } from '../../observability/metrics.js';
import type { BankResponse } from '../../transport/types.js';
import { isOwnedHeader } from '../owned-headers.js';
import { checksPsuFormat, psuHeaderViolation } from '../psu-headers.js';
import type { RouteMatch } from '../route-table.js';
import { matchMediaType, isJsonMediaType } from './media-type.js';
import { operationSchemaPointers, type OperationSchemaPointers } from './operation-schemas.js';
import { toValidatorDialect } from './schema-dialect.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** One violation, with where it is: `query.bookingStatus`, `header.PSU-IP-Address`, `body/instructedAmount/amount`. */
export interface Violation {
  readonly in: 'path' | 'query' | 'header' | 'body' | 'response';
  readonly at: string;
  readonly message: string;
}

export type ResponseValidation = 'off' | 'report' | 'enforce';

export interface SpecValidator {
  /** Throws a 400 `bad_request` listing every violation, before the bank is called. */
  checkRequest(match: RouteMatch, request: { query: URLSearchParams; header(name: string): string | undefined; body?: Uint8Array; contentType?: string }): void;
  /** Per mode: nothing, a log line and a metric, or a 502 `bank_response_invalid`. */
  checkResponse(match: RouteMatch, response: BankResponse, requestId?: string): void;
  /**
   * What of this operation cannot be validated, each with its reason (`request body as application/xml`, `response
   * 200: schema at #/… does not compile: …`); empty when everything is. The generator records it in the manifest.
   */
  coverage(match: RouteMatch): readonly string[];
}

interface CompiledOperation {
  readonly pointers: OperationSchemaPointers;
  /** Names of the declared query parameters. */
  readonly queryNames: ReadonlySet<string>;
  /** Query parameters the gateway fills with an API key (route.credentials). */
  readonly credentialQuery: ReadonlySet<string>;
  readonly params: Record<'path' | 'query' | 'header', ValidateFunction | undefined>;
  /** Per declared body media type (as spelled) whose JSON schema compiled. */
  readonly bodies: Map<string, ValidateFunction>;
  readonly responses: Map<string, ValidateFunction>;
  /** Parameters whose schemas did not compile: they go unvalidated (and counted). */
  readonly paramsUnusable: boolean;
  /** Declared PSU headers whose format the gateway checks (psu-headers.ts). */
  readonly psuHeaders: ReadonlyArray<{ readonly name: string; readonly schema?: Record<string, unknown> }>;
  /** What cannot be validated, with the reason (see `SpecValidator.coverage`). */
  readonly unvalidated: readonly string[];
  /** The counter of calls that went through with part of them unvalidated, by part. */
  readonly unvalidatedCalls: { body: { inc(): void }; parameters: { inc(): void } };
}

/**
 * Validates calls against the bank's own OpenAPI document (the normalised `generated/<bank>/<api>/openapi.json`):
 * path, query and header parameters (coerced from strings) and JSON bodies. Operations are compiled on first
 * use; `$ref`s resolve inside the bank's document.
 */
export function createSpecValidator(options: { documents: ReadonlyMap<string, Record<string, unknown>>; responses: ResponseValidation; log: Logger; metrics: MetricsRegistry }): SpecValidator {
  const ajvOptions = { strict: false, allErrors: true, validateSchema: false, discriminator: false, logger: false } as const;
  const bodies_ = addFormats(new Ajv(ajvOptions));
  const parameters = addFormats(new Ajv({ ...ajvOptions, coerceTypes: 'array' }));
  for (const [key, document] of options.documents) {
    // The spec's OpenAPI 3.0 / Swagger dialect, rewritten into the one Ajv compiles (schema-dialect.ts).
    const dialect = toValidatorDialect(document);
    bodies_.addSchema(dialect, idOf(key));
    parameters.addSchema(dialect, idOf(key));
  }
  const compiled = new Map<string, CompiledOperation | null>();
  // The same operation, by its mounted route: no key string to build on every call.
  const byRoute = new WeakMap<RouteMatch['mounted'], CompiledOperation | null>();
  options.metrics.describe('bankgate_response_violations_total', 'counter', 'Bank responses that do not match the bank spec, by bank, API and operation.');
  options.metrics.describe('bankgate_requests_unvalidated_total', 'counter', 'Calls forwarded with part of the request not validated against the spec (a body media type without a JSON schema, a schema that does not compile), by bank, API, operation and part.');

  const undocumentedCounters = new WeakMap<RouteMatch['mounted'], { inc(): void }>();
  const undocumented = ({ mounted }: RouteMatch): { inc(): void } => {
    let counter = undocumentedCounters.get(mounted);
    if (!counter) {
      counter = options.metrics.counter('bankgate_requests_unvalidated_total', { bank: mounted.bank.name, api: mounted.api.name, operation: mounted.route.operationId, part: 'all' });
      undocumentedCounters.set(mounted, counter);
    }
    return counter;
  };

  const compile = (match: RouteMatch): CompiledOperation | undefined => {
    const known = byRoute.get(match.mounted);
    if (known !== undefined) return known ?? undefined;
    const result = compileOperation(match);
    byRoute.set(match.mounted, result ?? null);
    return result;
  };

  const compileOperation = (match: RouteMatch): CompiledOperation | undefined => {
    const { bank, api, route } = match.mounted;
    const key = `${bank.name}/${api.name} ${route.method} ${route.path}`;
    if (compiled.has(key)) return compiled.get(key) ?? undefined;
    const document = options.documents.get(`${bank.name}/${api.name}`);
    const pointers = document && operationSchemaPointers(document, route);
    let result: CompiledOperation | null = null;
    if (pointers) {
      const id = idOf(`${bank.name}/${api.name}`);
      const ref = (pointer: string) => ({ $ref: `${id}#${encodeURI(pointer)}` });
      const unvalidated: string[] = [];
      const tryCompile = (ajv: Ajv, schema: object, what: string, pointer?: string): ValidateFunction | undefined => {
        try {
          return ajv.compile(schema);
        } catch (error) {
          const reason = (error as Error).message.slice(0, 200);
          unvalidated.push(`${what}: ${pointer ? `schema at #${pointer} ` : ''}does not compile (${reason})`);
          options.log.warn('validation.schema_unusable', { bank: bank.name, api: api.name, operationId: route.operationId, what, reason });
          return undefined;
        }
      };
      // Header names are case-insensitive, so they are validated lower-case; path and query names are not.
      const paramSchema = (list: OperationSchemaPointers['params']['query'], lower = false) => {
        const key = (name: string) => (lower ? name.toLowerCase() : name);
        return list.length === 0 ? undefined : tryCompile(parameters, { type: 'object', properties: Object.fromEntries(list.map((p) => [key(p.name), ref(p.pointer)])), required: list.filter((p) => p.required).map((p) => key(p.name)) }, 'parameters');
      };
      const ownHeaders = pointers.params.header.filter((p) => !isOwnedHeader(p.name.toLowerCase()));
      const params = { path: paramSchema(pointers.params.path), query: paramSchema(pointers.params.query), header: paramSchema(ownHeaders, true) };
      const paramsUnusable = (['path', 'query'] as const).some((where) => pointers.params[where].length > 0 && !params[where]) || (ownHeaders.length > 0 && !params.header);
      const bodies = new Map<string, ValidateFunction>();
      for (const type of pointers.body?.mediaTypes ?? []) {
        const pointer = pointers.body!.schemas[type];
        const fn = pointer ? tryCompile(bodies_, ref(pointer), `request body ${type}`, pointer) : undefined;
        if (fn) bodies.set(type, fn);
        else if (!pointer && !pointers.body!.binary.includes(type)) unvalidated.push(`request body as ${type}: no JSON schema to validate it against; forwarded as sent`);
      }
      const labels = { bank: bank.name, api: api.name, operation: route.operationId };
      result = {
        pointers,
        queryNames: new Set(pointers.params.query.map((p) => p.name)),
        credentialQuery: new Set((route.credentials ?? []).flatMap((c) => (c.type === 'apiKey' && c.in === 'query' ? [c.name] : []))),
        params,
        bodies,
        responses: new Map(Object.entries(pointers.responses).flatMap(([status, pointer]) => {
          const fn = pointer ? tryCompile(bodies_, ref(pointer), `response ${status}`, pointer) : undefined;
          return fn ? [[status, fn] as const] : [];
        })),
        paramsUnusable,
        psuHeaders: pointers.params.header.filter((p) => checksPsuFormat(p.name, p.schema)),
        unvalidated,
        unvalidatedCalls: {
          body: options.metrics.counter('bankgate_requests_unvalidated_total', { ...labels, part: 'body' }),
          parameters: options.metrics.counter('bankgate_requests_unvalidated_total', { ...labels, part: 'parameters' }),
        },
      };
    }
    compiled.set(key, result);
    return result ?? undefined;
  };

  return {
    coverage(match) {
      return compile(match)?.unvalidated ?? ['no operation in the document matches the route: nothing is validated'];
    },

    checkRequest(match, request) {
      const op = compile(match);
      if (!op) {
        // No document for this API (apis.<api>.document unset): nothing is checked, and that is counted too.
        undocumented(match).inc();
        return;
      }
      const violations: Violation[] = [];
      const { pointers } = op;
      if (op.paramsUnusable) op.unvalidatedCalls.parameters.inc();

      if (op.params.path) {
        const path: Record<string, string> = {};
        for (const p of pointers.params.path) if (match.params[p.name] !== undefined) path[p.name] = match.params[p.name]!;
        collect(op.params.path, path, 'path', violations);
      }

      const query: Record<string, string | string[]> = {};
      for (const name of request.query.size === 0 ? [] : new Set(request.query.keys())) {
        if (!op.queryNames.has(name)) {
          // An API key the gateway sends in the query: the caller's value is dropped by bank-request.ts, not refused.
          if (op.credentialQuery.has(name)) continue;
          violations.push({ in: 'query', at: `query.${name}`, message: `is not a parameter of ${match.mounted.route.operationId}` });
          continue;
        }
        const all = request.query.getAll(name);
        query[name] = all.length === 1 ? all[0]! : all;
      }
      collect(op.params.query, query, 'query', violations);

      if (op.params.header) {
        const headers: Record<string, string> = {};
        for (const p of pointers.params.header) {
          const value = request.header(p.name);
          if (value !== undefined && !isOwnedHeader(p.name.toLowerCase())) headers[p.name.toLowerCase()] = value;
        }
        collect(op.params.header, headers, 'header', violations, pointers.params.header);
      }
      // PSU context headers in their real formats, as the surface document describes them (psu-headers.ts).
      for (const p of op.psuHeaders) {
        const value = request.header(p.name);
        const violation = value === undefined ? undefined : psuHeaderViolation(p.name, value, p.schema);
        if (violation) violations.push({ in: 'header', at: `header.${p.name}`, message: violation.replace(/^header \S+ /, '') });
      }

      if (pointers.body) {
        const empty = !request.body || request.body.byteLength === 0;
        if (empty) {
          if (pointers.body.required) violations.push({ in: 'body', at: 'body', message: `is required (${pointers.body.mediaTypes.join(', ')})` });
        } else {
          // Media types by the rules (media-type.ts): ranges, parameters, case. No Content-Type: the first declared.
          const sent = request.contentType;
          const declared = sent ? matchMediaType(pointers.body.mediaTypes, sent) : pointers.body.mediaTypes[0];
          if (declared === undefined) violations.push({ in: 'body', at: 'header.Content-Type', message: `must be one of ${pointers.body.mediaTypes.join(', ')}` });
          else {
            const validate = op.bodies.get(declared);
            // A range (`*/*`) with a JSON schema validates JSON; any other content it covers goes as sent.
            const json = validate !== undefined && (sent === undefined || isJsonMediaType(sent) || isJsonMediaType(declared));
            if (json) {
              let body: unknown;
              try {
                body = JSON.parse(new TextDecoder().decode(request.body));
              } catch {
                violations.push({ in: 'body', at: 'body', message: 'is not valid JSON' });
              }
              if (body !== undefined && !validate(body)) violations.push(...validate.errors!.map((e) => toViolation('body', e)));
            } else if (validate === undefined && !pointers.body.binary.includes(declared)) op.unvalidatedCalls.body.inc();
          }
        }
      }

      if (violations.length > 0) {
        const { bank, route } = match.mounted;
        throw new BankgateError('bad_request', {
          status: 400,
          bank: bank.name,
          detail: `the request does not match ${bank.name}'s spec for ${route.operationId}: ${violations.map((v) => `${v.at} ${v.message}`).join('; ')}`,
          extra: { operationId: route.operationId, violations },
        });
      }
    },

    checkResponse(match, response, requestId) {
      if (options.responses === 'off') return;
      const op = compile(match);
      const type = String(response.headers['content-type'] ?? '');
      if (!op || !isJsonMediaType(type) || response.body.byteLength === 0) return;
      const status = String(response.status);
      const validate = op.responses.get(status) ?? op.responses.get(`${status[0]}XX`) ?? op.responses.get('default');
      if (!validate) return;
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(response.body));
      } catch {
        return report([{ in: 'response', at: 'response', message: 'is not valid JSON' }]);
      }
      if (!validate(json)) report(validate.errors!.map((e) => toViolation('response', e)));

      function report(violations: Violation[]) {
        const { bank, api, route } = match.mounted;
        options.metrics.inc('bankgate_response_violations_total', { bank: bank.name, api: api.name, operation: route.operationId });
        options.log.warn('validation.response_invalid', { requestId, bank: bank.name, api: api.name, operationId: route.operationId, violations: violations.map((v) => `${v.at} ${v.message}`) });
        if (options.responses === 'enforce') {
          throw new BankgateError('bank_response_invalid', { status: 502, bank: bank.name, detail: `bank ${bank.name} answered ${route.operationId} with a body its spec does not allow: ${violations.map((v) => `${v.at} ${v.message}`).join('; ').slice(0, 500)}`, extra: { violations } });
        }
      }
    },
  };
}

function idOf(key: string): string {
  return `https://bankgate.invalid/specs/${key}.json`;
}

function collect(validate: ValidateFunction | undefined, data: Record<string, unknown>, where: 'path' | 'query' | 'header', out: Violation[], declared?: { name: string }[]) {
  if (!validate || validate(data)) return;
  for (const error of validate.errors!) {
    const violation = toViolation(where, error);
    // Report headers under the spec's spelling (PSU-IP-Address), not the lower-case key used to validate.
    const name = violation.at.slice(where.length + 1).split(/[./]/)[0]!;
    const spelled = declared?.find((d) => d.name.toLowerCase() === name)?.name;
    out.push(spelled ? { ...violation, at: violation.at.replace(`${where}.${name}`, `${where}.${spelled}`) } : violation);
  }
}

function toViolation(where: Violation['in'], error: ErrorObject): Violation {
  const segments = error.instancePath.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') segments.push((error.params as { missingProperty: string }).missingProperty);
  let at: string;
  if (where === 'body' || where === 'response') at = segments.length > 0 ? `${where}/${segments.join('/')}` : where;
  else at = `${where}.${segments.join('.')}`;
  const message =
    error.keyword === 'enum'
      ? `must be one of ${((error.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String).join(', ')}`
      : error.keyword === 'required'
        ? 'is required'
        : (error.message ?? 'is not valid');
  return { in: where, at, message };
}
