import type { ApiManifest, ParamManifest, RouteManifest } from '../../plugin/manifest/types.js';
import { deref } from './json-pointer.js';
import type { SpecDocument } from './load-spec.js';
import { isJsonMediaType } from './unsupported.js';

type Json = Record<string, unknown>;

/** One difference between two generations of an API, as callers of the gateway and its SDK feel it. */
export interface Change {
  /** True when a caller written against the previous generation can break. */
  readonly breaking: boolean;
  readonly kind:
    | 'operation-added'
    | 'operation-removed'
    | 'operation-id-changed'
    | 'parameter-added'
    | 'parameter-removed'
    | 'parameter-required'
    | 'parameter-optional'
    | 'request-body-added'
    | 'request-body-removed'
    | 'request-body-required'
    | 'media-type-added'
    | 'media-type-removed'
    | 'response-added'
    | 'response-removed'
    | 'field-added'
    | 'field-removed'
    | 'field-required'
    | 'field-optional'
    | 'type-changed'
    | 'enum-value-added'
    | 'enum-value-removed'
    | 'security-changed';
  /** `GET /accounts/{account-id}`, the operation's key in both generations. */
  readonly operation: string;
  readonly operationId: string;
  /** Where in the operation: `query parameter withBalance`, `response 200 application/json: accounts[].iban`. */
  readonly location?: string;
  /** One sentence for people. */
  readonly message: string;
}

/** The changes of one API; `previous` absent means the API is new, `current` absent that it was removed. */
export interface ApiChanges {
  readonly bank: string;
  readonly api: string;
  readonly status: 'added' | 'removed' | 'changed' | 'unchanged';
  readonly previousSpecSha256?: string;
  readonly specSha256?: string;
  readonly breaking: number;
  readonly changes: readonly Change[];
}

export interface Generation {
  readonly manifest: ApiManifest;
  /** The normalised OpenAPI 3 document (`openapi.json`). */
  readonly doc: SpecDocument;
}

/**
 * Compares two generations of one API operation by operation (keyed by method and path template) and classifies each
 * difference. Breaking: a removed operation, response, media type or response field; a new required parameter, body or
 * request field; a narrowed type or a removed enum value; changed auth (token kind, scheme or scopes); a renamed
 * operationId (the SDK method name). Not breaking: additions of operations, optional parameters and fields, enum values.
 */
export function diffApis(bank: string, api: string, previous: Generation | undefined, current: Generation | undefined): ApiChanges {
  const changes: Change[] = [];
  const before = new Map((previous?.manifest.routes ?? []).map((route) => [keyOf(route), route]));
  const after = new Map((current?.manifest.routes ?? []).map((route) => [keyOf(route), route]));
  for (const [key, route] of before) {
    if (!after.has(key)) changes.push({ breaking: true, kind: 'operation-removed', operation: key, operationId: route.operationId, message: 'operation removed' });
  }
  for (const [key, route] of after) {
    const old = before.get(key);
    if (!old) {
      changes.push({ breaking: false, kind: 'operation-added', operation: key, operationId: route.operationId, message: 'operation added' });
      continue;
    }
    const add = (change: Omit<Change, 'operation' | 'operationId'>) => changes.push({ ...change, operation: key, operationId: route.operationId });
    if (old.operationId !== route.operationId) add({ breaking: true, kind: 'operation-id-changed', message: `operationId ${old.operationId} renamed to ${route.operationId} (the SDK method is renamed)` });
    diffParams(old, route, add);
    diffSecurity(old, route, add);
    const oldOp = operationOf(previous!.doc, old);
    const newOp = operationOf(current!.doc, route);
    diffRequestBody(previous!.doc, current!.doc, oldOp, newOp, add);
    diffResponses(previous!.doc, current!.doc, oldOp, newOp, add);
  }
  const status = !previous ? 'added' : !current ? 'removed' : changes.length > 0 ? 'changed' : 'unchanged';
  return {
    bank,
    api,
    status,
    ...(previous ? { previousSpecSha256: previous.manifest.specSha256 } : {}),
    ...(current ? { specSha256: current.manifest.specSha256 } : {}),
    breaking: changes.filter((change) => change.breaking).length,
    changes,
  };
}

type Add = (change: Omit<Change, 'operation' | 'operationId'>) => void;

function keyOf(route: RouteManifest): string {
  return `${route.method.toUpperCase()} ${route.path}`;
}

function operationOf(doc: SpecDocument, route: RouteManifest): Json {
  return (((doc['paths'] as Json | undefined)?.[route.path] as Json | undefined)?.[route.method] ?? {}) as Json;
}

function diffParams(old: RouteManifest, route: RouteManifest, add: Add): void {
  for (const where of ['path', 'query', 'header'] as const) {
    // Header names are case-insensitive; path and query names are not.
    const id = (param: ParamManifest) => (where === 'header' ? param.name.toLowerCase() : param.name);
    const before = new Map(old.params[where].map((param) => [id(param), param]));
    const after = new Map(route.params[where].map((param) => [id(param), param]));
    for (const [name, param] of before) {
      // The gateway refuses undeclared path and query parameters; an undeclared header is only not forwarded.
      if (!after.has(name)) add({ breaking: where !== 'header', kind: 'parameter-removed', location: `${where} parameter ${param.name}`, message: `${where} parameter ${param.name} removed` });
    }
    for (const [name, param] of after) {
      const location = `${where} parameter ${param.name}`;
      const was = before.get(name);
      if (!was) {
        add({ breaking: param.required, kind: 'parameter-added', location, message: `${param.required ? 'required' : 'optional'} ${location} added` });
        continue;
      }
      if (param.required && !was.required) add({ breaking: true, kind: 'parameter-required', location, message: `${location} is now required` });
      if (!param.required && was.required) add({ breaking: false, kind: 'parameter-optional', location, message: `${location} is now optional` });
      if (was.type !== param.type) add({ breaking: true, kind: 'type-changed', location, message: `${location} type ${was.type ?? 'any'} → ${param.type ?? 'any'}` });
      diffEnum(was.enum, param.enum, location, add);
    }
  }
}

function diffSecurity(old: RouteManifest, route: RouteManifest, add: Add): void {
  const describe = (r: RouteManifest) => `${r.tokenKind}${r.securityScheme ? ` via ${r.securityScheme}` : ''}${r.scopes.length > 0 ? ` [${r.scopes.join(' ')}]` : ''}`;
  if (describe(old) !== describe(route)) add({ breaking: true, kind: 'security-changed', location: 'security', message: `auth ${describe(old)} → ${describe(route)}` });
}

function diffEnum(before: readonly unknown[] | undefined, after: readonly unknown[] | undefined, location: string, add: Add): void {
  if (!before && !after) return;
  const b = (before ?? []).map((value) => JSON.stringify(value));
  const a = (after ?? []).map((value) => JSON.stringify(value));
  if (before && !after) return add({ breaking: false, kind: 'enum-value-added', location, message: `${location} no longer restricted to ${b.join(', ')}` });
  if (!before && after) return add({ breaking: true, kind: 'enum-value-removed', location, message: `${location} now restricted to ${a.join(', ')}` });
  const removed = b.filter((value) => !a.includes(value));
  const added = a.filter((value) => !b.includes(value));
  if (removed.length > 0) add({ breaking: true, kind: 'enum-value-removed', location, message: `${location}: enum value(s) ${removed.join(', ')} removed` });
  if (added.length > 0) add({ breaking: false, kind: 'enum-value-added', location, message: `${location}: enum value(s) ${added.join(', ')} added` });
}

function diffRequestBody(oldDoc: SpecDocument, newDoc: SpecDocument, oldOp: Json, newOp: Json, add: Add): void {
  const before = deref(oldDoc, oldOp['requestBody']) as Json | undefined;
  const after = deref(newDoc, newOp['requestBody']) as Json | undefined;
  if (!before && !after) return;
  if (!after) return add({ breaking: true, kind: 'request-body-removed', location: 'request body', message: 'request body removed' });
  if (!before) return add({ breaking: after['required'] === true, kind: 'request-body-added', location: 'request body', message: `${after['required'] === true ? 'required' : 'optional'} request body added` });
  if (after['required'] === true && before['required'] !== true) add({ breaking: true, kind: 'request-body-required', location: 'request body', message: 'request body is now required' });
  diffContent(oldDoc, newDoc, before['content'], after['content'], 'request body', 'request', add);
}

function diffResponses(oldDoc: SpecDocument, newDoc: SpecDocument, oldOp: Json, newOp: Json, add: Add): void {
  const before = (oldOp['responses'] ?? {}) as Json;
  const after = (newOp['responses'] ?? {}) as Json;
  for (const status of Object.keys(before)) {
    const location = `response ${status}`;
    if (!Object.hasOwn(after, status)) {
      // A vanished error response changes nothing a caller relies on; a vanished success response does.
      add({ breaking: /^2/.test(status), kind: 'response-removed', location, message: `${location} removed` });
      continue;
    }
    const was = deref(oldDoc, before[status]) as Json | undefined;
    const is = deref(newDoc, after[status]) as Json | undefined;
    diffContent(oldDoc, newDoc, was?.['content'], is?.['content'], location, 'response', add);
  }
  for (const status of Object.keys(after)) {
    if (!Object.hasOwn(before, status)) add({ breaking: false, kind: 'response-added', location: `response ${status}`, message: `response ${status} added` });
  }
}

function diffContent(oldDoc: SpecDocument, newDoc: SpecDocument, before: unknown, after: unknown, where: string, direction: Direction, add: Add): void {
  const b = (before ?? {}) as Json;
  const a = (after ?? {}) as Json;
  for (const type of Object.keys(b)) {
    if (!Object.hasOwn(a, type)) add({ breaking: true, kind: 'media-type-removed', location: `${where} ${type}`, message: `${where} no longer offered as ${type}` });
  }
  for (const type of Object.keys(a)) {
    if (!Object.hasOwn(b, type)) {
      add({ breaking: false, kind: 'media-type-added', location: `${where} ${type}`, message: `${where} now also offered as ${type}` });
      continue;
    }
    if (!isJsonMediaType(type)) continue;
    const oldSchema = (b[type] as Json | undefined)?.['schema'];
    const newSchema = (a[type] as Json | undefined)?.['schema'];
    new SchemaDiff(oldDoc, newDoc, direction, add).compare(oldSchema, newSchema, `${where} ${type}:`, 0);
  }
}

type Direction = 'request' | 'response';

/**
 * Walks two JSON schemas side by side (following `$ref`s and flattening `allOf`), reporting field, type and enum
 * differences. Field removals break both ways; a new required field breaks requests only; a field becoming optional
 * breaks responses only (callers may rely on it being there).
 */
class SchemaDiff {
  readonly #seen = new Set<string>();
  constructor(
    private readonly oldDoc: SpecDocument,
    private readonly newDoc: SpecDocument,
    private readonly direction: Direction,
    private readonly add: Add,
  ) {}

  compare(oldRaw: unknown, newRaw: unknown, location: string, depth: number): void {
    if (depth > 24) return;
    // Recursive or widely shared schemas: each pair of references is compared once, where first met.
    const [oldRef, newRef] = [refOf(oldRaw), refOf(newRaw)];
    if (oldRef !== undefined || newRef !== undefined) {
      const pair = `${oldRef ?? ''}|${newRef ?? ''}`;
      if (this.#seen.has(pair)) return;
      this.#seen.add(pair);
    }
    const before = flatten(this.oldDoc, oldRaw);
    const after = flatten(this.newDoc, newRaw);
    if (!before || !after) return;
    const typeBefore = typeOf(before);
    const typeAfter = typeOf(after);
    const at = location.endsWith(':') ? `${location} (body)` : location;
    if (typeBefore !== undefined && typeAfter !== undefined && typeBefore !== typeAfter) {
      this.add({ breaking: true, kind: 'type-changed', location: at, message: `${at} type ${typeBefore} → ${typeAfter}` });
      return;
    }
    diffEnum(before.enum, after.enum, at, this.add);
    const propsBefore = before.properties;
    const propsAfter = after.properties;
    const join = (name: string) => (location.endsWith(':') ? `${location} ${name}` : `${location}.${name}`);
    for (const name of Object.keys(propsBefore)) {
      if (!Object.hasOwn(propsAfter, name)) {
        const where = join(name);
        this.add({ breaking: true, kind: 'field-removed', location: where, message: `${where} removed` });
      }
    }
    for (const [name, schema] of Object.entries(propsAfter)) {
      const where = join(name);
      const required = after.required.has(name);
      if (!Object.hasOwn(propsBefore, name)) {
        const breaking = this.direction === 'request' && required;
        this.add({ breaking, kind: 'field-added', location: where, message: `${required ? 'required' : 'optional'} field ${where} added` });
        continue;
      }
      const wasRequired = before.required.has(name);
      if (required && !wasRequired) this.add({ breaking: this.direction === 'request', kind: 'field-required', location: where, message: `${where} is now required` });
      if (!required && wasRequired) this.add({ breaking: this.direction === 'response', kind: 'field-optional', location: where, message: `${where} is now optional` });
      this.compare(propsBefore[name], schema, where, depth + 1);
    }
    if (before.items !== undefined && after.items !== undefined) this.compare(before.items, after.items, `${location}[]`, depth + 1);
  }
}

interface FlatSchema {
  type?: string;
  enum?: unknown[];
  properties: Record<string, unknown>;
  required: Set<string>;
  items?: unknown;
}

function refOf(schema: unknown): string | undefined {
  return schema !== null && typeof schema === 'object' ? ((schema as { $ref?: string }).$ref ?? undefined) : undefined;
}

/** A schema's type, properties, required set, items and enum, with `$ref`s followed and `allOf` parts merged. */
function flatten(doc: SpecDocument, raw: unknown, depth = 0): FlatSchema | undefined {
  const schema = deref(doc, raw) as Json | undefined;
  if (!schema || typeof schema !== 'object' || depth > 16) return undefined;
  const flat: FlatSchema = { properties: {}, required: new Set() };
  for (const part of Array.isArray(schema['allOf']) ? schema['allOf'] : []) {
    const inner = flatten(doc, part, depth + 1);
    if (!inner) continue;
    Object.assign(flat.properties, inner.properties);
    for (const name of inner.required) flat.required.add(name);
    flat.type ??= inner.type;
    flat.enum ??= inner.enum;
    flat.items ??= inner.items;
  }
  if (typeof schema['type'] === 'string') flat.type = schema['type'];
  if (Array.isArray(schema['enum'])) flat.enum = schema['enum'];
  if (schema['properties'] && typeof schema['properties'] === 'object') Object.assign(flat.properties, schema['properties']);
  if (Array.isArray(schema['required'])) for (const name of schema['required']) flat.required.add(String(name));
  if (schema['items'] !== undefined) flat.items = schema['items'];
  return flat;
}

function typeOf(schema: FlatSchema): string | undefined {
  if (schema.type !== undefined) return schema.type;
  if (Object.keys(schema.properties).length > 0) return 'object';
  if (schema.items !== undefined) return 'array';
  return undefined;
}
