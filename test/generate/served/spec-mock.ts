// A strict mock bank for one OpenAPI document, behind real mTLS: it refuses what the spec does not allow, on its own
// reading of the spec (its own routing, security evaluation, media-type matching and JSON Schema draft-04 validation
// with ajv-draft-04, which reads OpenAPI 3.0's boolean exclusiveMinimum natively), so that it shares none of the
// gateway's code and none of its bugs. It answers each operation with the spec's example (or a minimal body), serves a
// client-credentials token endpoint, and records every request it accepted or refused.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Ajv04 from 'ajv-draft-04';
import type { PemPair } from '../../../sandbox/pki.js';

type Json = Record<string, unknown>;

export interface MockRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** The operation matched, when one was. */
  readonly operationId?: string;
  readonly status: number;
  /** Why the mock refused it. */
  readonly refused?: string;
}

export interface SpecMock {
  /** `https://127.0.0.1:<port>` */
  readonly origin: string;
  readonly requests: MockRequest[];
  /** Requests to operations (not to the token endpoint). */
  calls(operationId?: string): MockRequest[];
  close(): Promise<void>;
}

export interface SpecMockOptions {
  readonly document: Json;
  /** The path the spec's operations live under at the mock (the server URL's path), e.g. `/v1`. */
  readonly basePath?: string;
  readonly tls: { readonly server: PemPair; readonly ca: string };
  /** Per apiKey/http scheme name, the exact value the bank expects (an API key, a bearer token, `user:password`). */
  readonly secrets?: Readonly<Record<string, string>>;
  /** The access token the token endpoint issues, and that oauth2 schemes then require. */
  readonly accessToken?: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

export async function startSpecMock(options: SpecMockOptions): Promise<SpecMock> {
  const { document } = options;
  const ajv = new Ajv04({ strict: false, allErrors: true, validateSchema: false, logger: false, coerceTypes: false });
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T/);
  ajv.addSchema(tolerant(document) as Json, 'mock://spec');
  const requests: MockRequest[] = [];
  const server = createServer({ key: options.tls.server.keyPem, cert: options.tls.server.certPem, ca: options.tls.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        answer(Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        // A mock that cannot read its spec says so (and the test sees a 500), it never hangs the caller.
        json(res, 500, { mockError: (error as Error).message });
      }
    });
    function answer(body: string): void {
      const url = new URL(req.url ?? '/', 'https://mock');
      const record = (status: number, extra: Partial<MockRequest> = {}) =>
        requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, status, ...extra });
      if (url.pathname === '/token' && req.method === 'POST') {
        record(200);
        return json(res, 200, { access_token: options.accessToken ?? 'mock-access-token', token_type: 'Bearer', expires_in: 3600, scope: new URLSearchParams(body).get('scope') ?? '' });
      }
      const found = route(document, options.basePath ?? '', req.method ?? 'GET', url.pathname);
      if (!found) {
        record(404, { refused: 'no such operation' });
        return json(res, 404, { refused: 'no such operation' });
      }
      const operationId = String(found.operation['operationId'] ?? `${req.method} ${found.template}`);
      const refusal = security(document, found.operation, req, url, options) ?? parameters(ajv, document, found, req, url) ?? requestBody(ajv, document, found, req, body);
      if (refusal) {
        record(refusal.status, { operationId, refused: refusal.reason });
        return json(res, refusal.status, { refused: refusal.reason });
      }
      const reply = responseOf(document, found.operation, found.pointer);
      record(reply.status, { operationId });
      if (reply.body === undefined) {
        res.writeHead(reply.status).end();
        return;
      }
      json(res, reply.status, reply.body, reply.type);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    calls: (operationId) => requests.filter((r) => r.path !== '/token' && (operationId === undefined || r.operationId === operationId)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(JSON.stringify(body));
}

/**
 * The document as draft-04 Ajv can hold it: `required: false` on a property (invalid in every dialect) dropped, and
 * examples and extensions left out (draft-04 reads any `id` string, an example's included, as a schema id).
 */
function tolerant(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tolerant);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === 'required' && typeof value === 'boolean' && !('in' in (node as Json)) && !('content' in (node as Json)) && !('schema' in (node as Json))) continue;
    if (key === 'example' || key === 'examples' || key.startsWith('x-') || key === 'nullable') continue;
    out[key] = tolerant(value);
  }
  // OpenAPI 3.0 `nullable`, which draft-04 does not know: null, or the schema as written.
  if ((node as Json)['nullable'] === true) return { anyOf: [{ type: 'null' }, out] };
  return out;
}

function resolve(document: Json, node: unknown): Json | undefined {
  let current = node as Json | undefined;
  for (let i = 0; i < 20 && current && typeof current['$ref'] === 'string'; i++) {
    current = (current['$ref'] as string).slice(2).split('/').map((t) => decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~')).reduce<unknown>((n, t) => (n as Json | undefined)?.[t], document) as Json | undefined;
  }
  return current;
}

interface Found {
  readonly template: string;
  readonly operation: Json;
  readonly pathItem: Json;
  readonly pointer: string;
  readonly params: Record<string, string>;
}

function route(document: Json, basePath: string, method: string, pathname: string): Found | undefined {
  if (!pathname.startsWith(basePath)) return undefined;
  const segments = pathname.slice(basePath.length).split('/').filter(Boolean);
  const lower = method.toLowerCase();
  if (!METHODS.includes(lower)) return undefined;
  let best: Found | undefined;
  let bestLiterals = -1;
  for (const [template, pathItem] of Object.entries((document['paths'] ?? {}) as Json)) {
    const parts = template.split('/').filter(Boolean);
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const ok = parts.every((part, i) => {
      const param = /^\{(.+)\}$/.exec(part);
      if (param) return (params[param[1]!] = decodeURIComponent(segments[i]!)) !== undefined;
      literals++;
      return part === segments[i];
    });
    const operation = (pathItem as Json)[lower] as Json | undefined;
    if (ok && operation && literals > bestLiterals) {
      best = { template, operation, pathItem: pathItem as Json, pointer: `#/paths/${template.replace(/~/g, '~0').replace(/\//g, '~1')}/${lower}`, params };
      bestLiterals = literals;
    }
  }
  return best;
}

function security(document: Json, operation: Json, req: IncomingMessage, url: URL, options: SpecMockOptions): { status: number; reason: string } | undefined {
  const requirements = (operation['security'] ?? document['security'] ?? []) as Json[];
  if (requirements.length === 0) return undefined;
  const schemes = ((document['components'] as Json | undefined)?.['securitySchemes'] ?? {}) as Json;
  const cookies = new Map((req.headers.cookie ?? '').split(';').map((c: string) => c.trim().split('=') as [string, string]));
  const unmet: string[] = [];
  for (const requirement of requirements) {
    const missing = Object.keys(requirement).filter((name) => {
      const scheme = resolve(document, schemes[name]) ?? {};
      const expected = options.secrets?.[name];
      const authorization = req.headers.authorization ?? '';
      if (scheme['type'] === 'apiKey') {
        const key = String(scheme['name']);
        const value = scheme['in'] === 'header' ? req.headers[key.toLowerCase()] : scheme['in'] === 'query' ? url.searchParams.get(key) : cookies.get(key);
        return value === undefined || value === null || value === '' || (expected !== undefined && value !== expected);
      }
      if (scheme['type'] === 'http' && String(scheme['scheme']).toLowerCase() === 'basic') return authorization !== `Basic ${Buffer.from(expected ?? '').toString('base64')}`;
      if (scheme['type'] === 'http') return !authorization.startsWith('Bearer ') || (expected !== undefined && authorization !== `Bearer ${expected}`);
      if (scheme['type'] === 'oauth2' || scheme['type'] === 'openIdConnect') return authorization !== `Bearer ${options.accessToken ?? 'mock-access-token'}`;
      return false; // mutualTLS: the TLS server already required the client certificate.
    });
    if (missing.length === 0) return undefined;
    unmet.push(missing.join('+'));
  }
  return { status: 401, reason: `no security requirement met (missing ${unmet.join(' or ')})` };
}

function parameters(ajv: Ajv04, document: Json, found: Found, req: IncomingMessage, url: URL): { status: number; reason: string } | undefined {
  const declared = new Map<string, Json>();
  for (const list of [found.pathItem['parameters'], found.operation['parameters']]) {
    for (const raw of (list ?? []) as unknown[]) {
      const param = resolve(document, raw);
      if (param) declared.set(`${String(param['in'])}:${String(param['name']).toLowerCase()}`, param);
    }
  }
  for (const param of declared.values()) {
    const name = String(param['name']);
    const value = param['in'] === 'path' ? found.params[name] : param['in'] === 'query' ? (url.searchParams.get(name) ?? undefined) : param['in'] === 'header' ? (req.headers[name.toLowerCase()] as string | undefined) : undefined;
    if (value === undefined) {
      if (param['required'] === true) return { status: 400, reason: `${String(param['in'])} parameter ${name} is required` };
      continue;
    }
    const schema = param['schema'] as Json | undefined;
    if (!schema) continue;
    const resolved = resolve(document, schema) ?? {};
    const typed = resolved['type'] === 'integer' || resolved['type'] === 'number' ? Number(value) : resolved['type'] === 'boolean' ? value === 'true' : value;
    const validate = ajv.compile(schema['$ref'] ? { $ref: `mock://spec${String(schema['$ref'])}` } : schema);
    if (!validate(typed)) return { status: 400, reason: `${String(param['in'])} parameter ${name}: ${ajv.errorsText(validate.errors)}` };
  }
  return undefined;
}

function essence(type: string): string {
  return type.split(';')[0]!.trim().toLowerCase();
}

function requestBody(ajv: Ajv04, document: Json, found: Found, req: IncomingMessage, body: string): { status: number; reason: string } | undefined {
  const declared = resolve(document, found.operation['requestBody']);
  if (!declared) return body === '' ? undefined : { status: 400, reason: 'the operation takes no body' };
  if (body === '') return declared['required'] === true ? { status: 400, reason: 'a body is required' } : undefined;
  const content = (declared['content'] ?? {}) as Json;
  const sent = essence(req.headers['content-type'] ?? '');
  const [sentType] = sent.split('/');
  const match = Object.keys(content).find((type) => essence(type) === sent) ?? Object.keys(content).find((type) => essence(type) === `${sentType}/*`) ?? Object.keys(content).find((type) => essence(type) === '*/*');
  if (match === undefined) return { status: 415, reason: `content type ${sent || '(none)'} is not one of ${Object.keys(content).join(', ')}` };
  const schema = (content[match] as Json | undefined)?.['schema'] as Json | undefined;
  const resolved = resolve(document, schema);
  // No schema, not JSON, or `format: binary` (the bytes of a file, whatever their label): nothing to parse.
  if (!schema || !/json/.test(sent) || (resolved?.['type'] === 'string' && resolved['format'] === 'binary')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { status: 400, reason: 'body is not JSON' };
  }
  const bodyRef = (found.operation['requestBody'] as Json)['$ref'];
  const base = typeof bodyRef === 'string' ? bodyRef : `${found.pointer}/requestBody`;
  const validate = ajv.compile({ $ref: `mock://spec${encodeURI(`${base}/content/${match.replace(/~/g, '~0').replace(/\//g, '~1')}/schema`)}` });
  return validate(parsed) ? undefined : { status: 400, reason: `body: ${ajv.errorsText(validate.errors)}` };
}

function responseOf(document: Json, operation: Json, _pointer: string): { status: number; body?: unknown; type?: string } {
  const responses = (operation['responses'] ?? {}) as Json;
  const status = Object.keys(responses).find((code) => /^2\d\d$/.test(code)) ?? '200';
  const response = resolve(document, responses[status]) ?? {};
  const content = (response['content'] ?? {}) as Json;
  const type = Object.keys(content).find((t) => /json/i.test(t) && !t.includes('*'));
  if (type === undefined || Number(status) === 204) return { status: Number(status) };
  const media = content[type] as Json;
  const examples = media['examples'] as Json | undefined;
  const example = media['example'] ?? (examples ? resolve(document, Object.values(examples)[0])?.['value'] : undefined);
  return { status: Number(status), body: example ?? instanceOf(document, media['schema'], 0), type: type.split(';')[0]!.trim() };
}

/** A minimal instance of a schema: required members only, first enum values, bounds respected. */
function instanceOf(document: Json, raw: unknown, depth: number): unknown {
  const schema = resolve(document, raw) ?? {};
  if (depth > 12) return null;
  if (Array.isArray(schema['enum'])) return schema['enum'][0];
  if (schema['example'] !== undefined) return schema['example'];
  for (const key of ['allOf', 'oneOf', 'anyOf']) {
    const list = schema[key] as unknown[] | undefined;
    if (!Array.isArray(list) || list.length === 0) continue;
    if (key !== 'allOf') return instanceOf(document, list[0], depth + 1);
    return Object.assign({}, ...list.map((part) => instanceOf(document, part, depth + 1)).filter((part) => part && typeof part === 'object'));
  }
  switch (schema['type']) {
    case 'object': {
      const out: Json = {};
      const properties = (schema['properties'] ?? {}) as Json;
      for (const name of (Array.isArray(schema['required']) ? schema['required'] : []) as string[]) out[name] = instanceOf(document, properties[name], depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: Number(schema['minItems'] ?? 0) }, () => instanceOf(document, schema['items'], depth + 1));
    case 'integer':
    case 'number': {
      const minimum = typeof schema['minimum'] === 'number' ? schema['minimum'] : 0;
      return schema['exclusiveMinimum'] === true ? minimum + 1 : minimum;
    }
    case 'boolean':
      return false;
    default:
      return schema['format'] === 'date' ? '2026-01-01' : schema['format'] === 'date-time' ? '2026-01-01T00:00:00Z' : 'x'.repeat(Number(schema['minLength'] ?? 1));
  }
}
