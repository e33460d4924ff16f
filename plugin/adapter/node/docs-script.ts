import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** The Scalar bundle `/docs/scalar.js` serves, read from `node_modules` (no CDN: gateways often have no internet). */
export function readDocsScript(): Promise<string> {
  return readFile(createRequire(import.meta.url).resolve('@scalar/api-reference/browser/standalone.js'), 'utf8');
}
