import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where `npm start` keeps a generated dev key, so that `npm run connect` and copy-paste commands find it. */
export const DEV_KEY_FILE = '.bankgate/dev-key';

export function saveDevKey(key: string, file = DEV_KEY_FILE): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, key + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function loadDevKey(file = DEV_KEY_FILE): string | undefined {
  if (process.env.BANKGATE_DEV_KEY) return process.env.BANKGATE_DEV_KEY;
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
