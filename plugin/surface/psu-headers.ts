/**
 * The PSU context headers (`PSU-IP-Address`, `PSU-IP-Port`, `PSU-Http-Method`, …) in their real formats. Many bank
 * specs declare them as bare strings; the surface document gives them the format they have, and the gateway refuses
 * a value that breaks it before any bank sees it, so that what the document promises is what the gateway checks.
 * A bank's own, more specific schema (a `format`, `pattern` or `enum`) is kept as the bank wrote it.
 */
type Json = Record<string, unknown>;

interface PsuFormat {
  readonly schema: Json;
  readonly accepts: (value: string) => boolean;
  readonly expected: string;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** RFC 4291 text forms, compressed and with an embedded IPv4 tail; no zone id (a PSU's public address has none). */
function isIpv6(value: string): boolean {
  if (value.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(value)) return false;
  const halves = value.split('::');
  if (halves.length > 2) return false;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const parts = [...groups(halves[0]!), ...(halves.length === 2 ? groups(halves[1]!) : [])];
  let count = 0;
  for (const [index, part] of parts.entries()) {
    if (index === parts.length - 1 && part.includes('.')) {
      if (!IPV4.test(part)) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(part)) count += 1;
    else return false;
  }
  return halves.length === 2 ? count < 8 : count === 8;
}

const FORMATS: Readonly<Record<string, PsuFormat>> = {
  'psu-ip-address': {
    schema: { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }], description: "The PSU's IP address (IPv4 or IPv6), when the PSU is present." },
    accepts: (value) => IPV4.test(value) || isIpv6(value),
    expected: 'an IPv4 or IPv6 address',
  },
  'psu-ip-port': { schema: { type: 'string', pattern: '^[0-9]{1,5}$' }, accepts: (value) => /^[0-9]{1,5}$/.test(value) && Number(value) <= 65535, expected: 'a port number' },
  'psu-http-method': {
    schema: { type: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
    accepts: (value) => ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(value),
    expected: 'one of GET, POST, PUT, PATCH, DELETE',
  },
  'psu-device-id': {
    schema: { type: 'string', format: 'uuid' },
    accepts: (value) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value),
    expected: 'a UUID',
  },
  'psu-geo-location': {
    schema: { type: 'string', pattern: '^GEO:-?[0-9]{1,2}\\.[0-9]{6};-?[0-9]{1,3}\\.[0-9]{6}$' },
    accepts: (value) => /^GEO:-?[0-9]{1,2}\.[0-9]{6};-?[0-9]{1,3}\.[0-9]{6}$/.test(value),
    expected: 'GEO:<latitude>;<longitude> with six decimals',
  },
};

/** A bank schema that says nothing beyond "a string": the known format may take its place. */
function isBareString(schema: Json | undefined): boolean {
  if (!schema) return true;
  return Object.keys(schema).every((key) => key === 'type' || key === 'description' || key === 'example' || key === 'examples') && (schema.type === undefined || schema.type === 'string');
}

/** The schema to document for header `name`: the known PSU format when the bank's is a bare string, else the bank's. */
export function psuHeaderSchema(name: string, bankSchema: Json | undefined): Json | undefined {
  const known = FORMATS[name.toLowerCase()];
  if (!known || !isBareString(bankSchema)) return bankSchema;
  const description = bankSchema?.description ?? known.schema.description;
  return { ...known.schema, ...(description !== undefined ? { description } : {}) };
}

/**
 * The violation of a PSU header value the gateway refuses (`header PSU-IP-Address must be …`), or undefined.
 * Checked only where the bank's schema is a bare string: a bank's own format is checked by spec validation.
 */
export function psuHeaderViolation(name: string, value: string, bankSchema: Json | undefined): string | undefined {
  const known = FORMATS[name.toLowerCase()];
  if (!known || !isBareString(bankSchema) || known.accepts(value)) return undefined;
  return `header ${name} must be ${known.expected}`;
}

/** True when the gateway checks header `name`'s format itself: a known PSU header the bank declares as a bare string. */
export function checksPsuFormat(name: string, bankSchema: Json | undefined): boolean {
  return FORMATS[name.toLowerCase()] !== undefined && isBareString(bankSchema);
}
