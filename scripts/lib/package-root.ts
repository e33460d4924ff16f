import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

/**
 * The bankgate package's root directory (this checkout, or `node_modules/bankgate` in a team's repository):
 * the nearest directory up from this module, run from source or from `dist/`, whose package.json names bankgate.
 */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && readPackageJson(dir).name === 'bankgate') return dir;
    if (dirname(dir) === dir) throw new Error(`no bankgate package.json above ${from}`);
  }
}

export function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}
