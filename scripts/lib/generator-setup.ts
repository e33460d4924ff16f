/**
 * What `bankgate generate` needs besides bankgate itself, checked before the generator runs so that each missing
 * piece is one message with the command that provides it:
 * - the code generators, optional peer dependencies of bankgate (a team installs them as devDependencies: they
 *   generate code, the running gateway never loads them);
 * - Java, which runs openapi-generator's JAR, and the JAR itself: npm runs no install script of a dependency, so
 *   the JAR is fetched through Maven on first use, into a cache shared by every project of the user.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { readPackageJson } from './package-root.js';

/**
 * The packages the generator imports (openapi-typescript needs typescript at run time; typescript also type-checks
 * every new SDK; @redocly/openapi-core bundles multi-file specs).
 */
export const GENERATOR_PEERS = ['openapi-typescript', 'swagger2openapi', 'typescript', 'yaml', '@redocly/openapi-core'] as const;

export interface MissingPeer {
  readonly name: string;
  /** The range bankgate's peerDependencies give. */
  readonly range: string;
  /** The installed version, when one is installed with another major version. */
  readonly found?: string;
}

/** Generator peers that are not installed where the package resolves them, or installed with a wrong major version. */
export function missingGeneratorPeers(root: string): MissingPeer[] {
  const peers = readPackageJson(root).peerDependencies ?? {};
  const missing: MissingPeer[] = [];
  for (const name of GENERATOR_PEERS) {
    const range = peers[name] ?? 'latest';
    const found = installedVersion(name, root);
    if (found === undefined) missing.push({ name, range });
    else if (range !== 'latest' && majorOf(found) !== majorOf(range)) missing.push({ name, range, found });
  }
  return missing;
}

/** The message for missing peers, ending with the exact `npm i -D …` command. */
export function missingPeersMessage(missing: readonly MissingPeer[]): string {
  const names = missing.map((peer) => (peer.found ? `${peer.name} (${peer.found} installed; ${peer.range} needed)` : peer.name));
  return [
    `bankgate generate: the code generators are not installed in this project: ${names.join(', ')}.`,
    'They are optional peer dependencies of bankgate (they generate code; the gateway never loads them). Install them:',
    `  npm i -D ${missing.map((peer) => `${peer.name}@${peer.range}`).join(' ')}`,
  ].join('\n');
}

export type JarOutcome = { readonly jar: string } | { readonly error: string };

/**
 * The openapi-generator JAR to run: `BANKGATE_GENERATOR_JAR` when set; else the one a bankgate checkout keeps
 * (openapitools.json's storageDir); else `<cache>/openapi-generator/<version>.jar`, fetched with Maven when absent.
 * The cache is `BANKGATE_CACHE_DIR`, else `$XDG_CACHE_HOME/bankgate`, else `~/.cache/bankgate`.
 */
export function ensureGeneratorJar(root: string, env: NodeJS.ProcessEnv = process.env): JarOutcome {
  if (!onPath('java', env)) {
    return { error: 'bankgate generate: java not found on PATH; openapi-generator (the typed SDKs) runs on a JRE 11+. Install one: apt-get install -y openjdk-17-jre-headless (Debian)' };
  }
  if (env.BANKGATE_GENERATOR_JAR) {
    const jar = resolve(env.BANKGATE_GENERATOR_JAR);
    return existsSync(jar) ? { jar } : { error: `bankgate generate: BANKGATE_GENERATOR_JAR=${env.BANKGATE_GENERATOR_JAR}: no such file` };
  }
  const config = JSON.parse(readFileSync(join(root, 'openapitools.json'), 'utf8')) as { 'generator-cli': { version: string; storageDir: string } };
  const { version, storageDir } = config['generator-cli'];
  const own = resolve(root, storageDir, `${version}.jar`);
  if (existsSync(own)) return { jar: own };
  const cacheDir = join(generatorCacheDir(env), 'openapi-generator');
  const jar = join(cacheDir, `${version}.jar`);
  if (existsSync(jar)) return { jar };
  const installer = join(root, 'scripts', 'install-generator-jar.mjs');
  const result = spawnSync(process.execPath, [installer, '--dir', cacheDir], { stdio: ['ignore', 2, 2], env });
  if (result.status === 0 && existsSync(jar)) return { jar };
  // The installer has said why (java or mvn missing, Maven Central unreachable) and what to run.
  return { error: `bankgate generate: the openapi-generator JAR ${version} is not in ${cacheDir}; see above` };
}

/** `BANKGATE_CACHE_DIR`, `$XDG_CACHE_HOME/bankgate` or `~/.cache/bankgate`. */
export function generatorCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BANKGATE_CACHE_DIR) return resolve(env.BANKGATE_CACHE_DIR);
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'bankgate');
}

/** The version of `name` installed in the nearest `node_modules` up from `from`, as Node would resolve it. */
function installedVersion(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = resolve(dir, '..')) {
    const file = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    if (resolve(dir, '..') === dir) return undefined;
  }
}

function majorOf(versionOrRange: string): number {
  return Number(/\d+/.exec(versionOrRange)?.[0] ?? NaN);
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}
