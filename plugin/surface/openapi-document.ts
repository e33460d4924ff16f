import type { RouteTable } from './route-table.js';

const OWNED = new Set(['authorization', 'x-request-id', 'signature', 'digest', 'tpp-signature-certificate']);

/**
 * One OpenAPI 3.1 document of every mounted operation under its gateway path, with the internal auth
 * scheme and `X-Connection-Id` in place of the bank's security and the headers the gateway owns.
 */
export function openApiDocument(table: RouteTable, serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { bank, api, route, gatewayPath } of table.routes) {
    const parameters: unknown[] = [
      ...route.params.path.map((p) => ({ name: p.name, in: 'path', required: true, schema: schemaOf(p) })),
      ...route.params.query.map((p) => ({ name: p.name, in: 'query', required: p.required, schema: schemaOf(p) })),
      ...route.params.header.filter((p) => !OWNED.has(p.name.toLowerCase())).map((p) => ({ name: p.name, in: 'header', required: p.required, schema: schemaOf(p) })),
    ];
    if (route.tokenKind === 'psu') parameters.push({ $ref: '#/components/parameters/ConnectionId' });
    paths[gatewayPath] ??= {};
    paths[gatewayPath]![route.method] = {
      operationId: `${bank.name}_${api.name}_${route.operationId}`,
      tags: [`${bank.displayName} ${api.name}`],
      summary: route.summary ?? route.operationId,
      parameters,
      ...(route.requestBody
        ? { requestBody: { required: route.requestBody.required, content: Object.fromEntries(route.requestBody.contentTypes.map((t) => [t, { schema: {} }])) } }
        : {}),
      responses: {
        default: { description: "The bank's answer, as the bank sent it." },
        '4XX': { $ref: '#/components/responses/Problem' },
        '5XX': { $ref: '#/components/responses/Problem' },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'bankgate', version: '0.1.0', description: 'Every bank API this gateway mounts, under one internal surface.' },
    servers: [{ url: serverUrl }],
    security: [{ internalBearer: [] }],
    paths,
    components: {
      securitySchemes: { internalBearer: { type: 'http', scheme: 'bearer', description: 'The internal credential of the calling service.' } },
      parameters: {
        ConnectionId: { name: 'X-Connection-Id', in: 'header', required: true, description: 'The PSU connection to act for (from POST /connections).', schema: { type: 'string' } },
      },
      responses: {
        Problem: {
          description: 'An RFC 9457 problem with a stable code.',
          content: {
            'application/problem+json': {
              schema: {
                type: 'object',
                required: ['type', 'title', 'status', 'code'],
                properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, code: { type: 'string' }, detail: { type: 'string' }, bank: { type: 'string' } },
              },
            },
          },
        },
      },
    },
  };
}

function schemaOf(param: { type?: string; enum?: readonly string[] }) {
  return { type: param.type ?? 'string', ...(param.enum ? { enum: [...param.enum] } : {}) };
}
