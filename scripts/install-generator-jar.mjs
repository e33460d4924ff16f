#!/usr/bin/env node
// Installs the openapi-generator JAR that `npm run generate` / `bankgate generate` runs, from Maven Central,
// as `<dir>/<version>.jar` (version from openapitools.json). The npm wrapper's own download host is not
// reachable from every build machine, so the project fetches the JAR through Maven itself.
// Usage: node scripts/install-generator-jar.mjs [--if-java] [--dir DIR]
//   --if-java  skip quietly (exit 0) when java or mvn is absent: `npm install` must work without a JDK;
//              `npm test` and `bankgate generate` call it without the flag and fail loudly instead.
//   --dir DIR  where to put it (the `bankgate` CLI's cache); default: openapitools.json's storageDir in this checkout.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { 'if-java': { type: 'boolean', default: false }, dir: { type: 'string' } } });
const optional = values['if-java'];
const config = JSON.parse(readFileSync(join(root, 'openapitools.json'), 'utf8'));
const version = config['generator-cli'].version;
const storageDir = values.dir !== undefined ? resolve(values.dir) : resolve(root, config['generator-cli'].storageDir);
const jar = join(storageDir, `${version}.jar`);
const artifactUrl = `https://repo1.maven.org/maven2/org/openapitools/openapi-generator-cli/${version}/openapi-generator-cli-${version}.jar`;

function has(cmd, args) {
  try { execFileSync(cmd, args, { stdio: 'ignore' }); return true; } catch { return false; }
}

if (existsSync(jar)) process.exit(0);
const needs = [
  ['java', ['-version'], 'a JRE 11+ runs the generator', 'apt-get install -y openjdk-17-jre-headless'],
  ['mvn', ['-v'], 'Maven fetches the generator', 'apt-get install -y maven'],
];
for (const [cmd, args, why, install] of needs) {
  if (has(cmd, args)) continue;
  if (optional) {
    console.warn(`bankgate: ${cmd} not found; skipping the openapi-generator JAR (needed only to generate code and by npm test). Debian: ${install}`);
    process.exit(0);
  }
  const fallback = cmd === 'mvn' ? `\n  or fetch the JAR yourself: mkdir -p ${storageDir} && curl -fL -o ${jar} ${artifactUrl}` : '';
  console.error(`bankgate: ${cmd} not found (${why}, openapi-generator-cli ${version}). Install it: ${install}${fallback}`);
  process.exit(1);
}
mkdirSync(storageDir, { recursive: true });
const artifact = `org.openapitools:openapi-generator-cli:${version}:jar`;
console.error(`bankgate: fetching ${artifact} from Maven Central into ${storageDir}`);
try {
  // Maven's output only when it fails (it prints colour codes even in batch mode).
  execFileSync('mvn', ['-q', '-B', 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${storageDir}`, '-Dmdep.stripVersion=false'], { stdio: ['ignore', 'pipe', 'pipe'] });
} catch (error) {
  process.stderr.write(`${error.stdout ?? ''}${error.stderr ?? ''}`);
  const again = `node ${join(root, 'scripts', 'install-generator-jar.mjs')}${values.dir !== undefined ? ` --dir ${storageDir}` : ''}`;
  console.error(`bankgate: mvn could not fetch ${artifact}. Check that Maven Central is reachable, then run: ${again}\n  or fetch the JAR yourself: curl -fL -o ${jar} ${artifactUrl}`);
  process.exit(1);
}
const fetched = readdirSync(storageDir).find((f) => f === `openapi-generator-cli-${version}.jar`);
if (!fetched) {
  console.error(`bankgate: mvn finished but ${storageDir}/openapi-generator-cli-${version}.jar is missing`);
  process.exit(1);
}
renameSync(join(storageDir, fetched), jar);
console.error(`bankgate: installed ${jar}`);
