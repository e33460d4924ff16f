/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, not to the message: a proxy must not
 * forward them either way. Undici also rejects some of them on a request, and `host` / `content-length`
 * are its to set from the origin and the body, so no caller-supplied value can steer SNI, the
 * certificate check or the framing.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-');
}

const NO_TOKENS: ReadonlySet<string> = new Set();

/** Extra names a `Connection` header declares hop-by-hop (`Connection: close, x-foo`); most declare none. */
function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> {
  if (value === undefined || value === 'keep-alive' || value === 'close') return NO_TOKENS; // what nearly every answer says
  const list = Array.isArray(value) ? value.join(',') : value;
  const tokens = list.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t && t !== 'keep-alive' && t !== 'close');
  return tokens.length === 0 ? NO_TOKENS : new Set(tokens);
}

// Both run on every bank call: no [name, value] pair per header, no Set unless `Connection` names one.

/** Response headers with lower-case names, hop-by-hop ones removed. */
export function stripHopByHop(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Record<string, string | string[]> {
  const declared = connectionTokens(headers.connection ?? headers.Connection);
  const out: Record<string, string | string[]> = {};
  for (const rawName of Object.keys(headers)) {
    const value = headers[rawName];
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (isHopByHop(name) || declared.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** Request headers to hand to undici: lower-case, hop-by-hop, `host` and `content-length` removed. */
export function outgoingHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const declared = connectionTokens(headers.connection);
  const out: Record<string, string> = {};
  for (const rawName of Object.keys(headers)) {
    const name = rawName.toLowerCase();
    if (isHopByHop(name) || declared.has(name) || name === 'host' || name === 'content-length') continue;
    out[name] = headers[rawName]!;
  }
  return out;
}
