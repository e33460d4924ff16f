// Prints the path of the Node binary bankgate's npm scripts run on (node.sh execs it):
//   BANKGATE_NODE=22|24   the pinned Node of that line (versions.json)
//   BANKGATE_NODE=system  the Node that runs this file, whatever its version
//   unset                 the Node that runs this file when it satisfies package.json `engines`, else the default line
// A pinned Node comes from the npm registry (the node-<platform>-<arch> package carries bin/node), is checked
// against the registry's sha512 integrity and unpacked once into .cache/node/v<version>/.
// Runs on any Node from 18 (it may be the old system Node): no dependencies, nothing newer than fetch.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const versions = JSON.parse(readFileSync(join(here, 'versions.json'), 'utf8'));

/** package.json `engines.node` of bankgate, as a predicate: `^22.19.0 || >=24`. */
function satisfiesEngines(version) {
  const [major, minor] = version.split('.').map(Number);
  return major >= 24 || (major === 22 && minor >= 19);
}

function fail(message) {
  process.stderr.write(`bankgate: ${message}\n`);
  process.exit(1);
}

async function pinned(line) {
  const version = versions[line];
  if (!version) fail(`BANKGATE_NODE=${line} is not a pinned Node line; use one of ${Object.keys(versions).filter((k) => /^\d+$/.test(k)).join(', ')} or system`);
  const dir = join(root, '.cache', 'node', `v${version}`);
  const binary = join(dir, 'bin', 'node');
  if (existsSync(binary)) return binary;

  const pkg = `node-${process.platform}-${process.arch}`;
  const registry = (process.env.npm_config_registry || 'https://registry.npmjs.org/').replace(/\/?$/, '/');
  process.stderr.write(`bankgate: fetching Node ${version} (${pkg} from ${registry}) into .cache/node/\n`);
  const metaResponse = await fetch(`${registry}${pkg}/${version}`);
  if (!metaResponse.ok) fail(`the npm registry has no ${pkg}@${version} (HTTP ${metaResponse.status}); install Node 22.19+ or 24 yourself`);
  const { dist } = await metaResponse.json();
  const tarball = await fetch(dist.tarball);
  if (!tarball.ok) fail(`downloading ${dist.tarball} failed (HTTP ${tarball.status})`);
  const bytes = Buffer.from(await tarball.arrayBuffer());
  const [algorithm, expected] = String(dist.integrity).split('-');
  if (algorithm !== 'sha512' || createHash('sha512').update(bytes).digest('base64') !== expected) fail(`${pkg}@${version}: the tarball does not match the registry's integrity`);

  // Unpacked beside its final place, then renamed: concurrent first runs each unpack, one rename wins.
  const staging = join(root, '.cache', 'node', `.staging-${randomBytes(6).toString('hex')}`);
  mkdirSync(staging, { recursive: true });
  try {
    writeFileSync(join(staging, 'package.tgz'), bytes);
    execFileSync('tar', ['-xzf', 'package.tgz'], { cwd: staging, stdio: 'inherit' });
    if (!existsSync(join(staging, 'package', 'bin', 'node'))) fail(`${pkg}@${version} has no bin/node`);
    try {
      renameSync(join(staging, 'package'), dir);
    } catch (error) {
      if (!existsSync(binary)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}

const requested = process.env.BANKGATE_NODE;
let binary;
if (requested === 'system') binary = process.execPath;
else if (requested) binary = await pinned(requested);
else if (satisfiesEngines(process.versions.node)) binary = process.execPath;
else {
  binary = await pinned(versions.default);
  process.stderr.write(`bankgate: the system Node ${process.version} is older than bankgate needs (22.19+ or 24); running on the pinned Node ${versions[versions.default]}\n`);
}
process.stdout.write(binary);
