#!/usr/bin/env node
// Installs the openapi-generator JAR that @openapitools/openapi-generator-cli runs, from Maven Central,
// into the storageDir named in openapitools.json. The wrapper's own download host is not reachable
// from every build machine, so the project fetches the JAR through Maven itself.
// Usage: node scripts/install-generator-jar.mjs [--if-java]
//   --if-java  skip quietly (exit 0) when java or mvn is absent: `npm install` must work without a JDK;
//              `npm test` and `npm run generate` call it without the flag and fail loudly instead.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const optional = process.argv.includes('--if-java');
const config = JSON.parse(readFileSync(join(root, 'openapitools.json'), 'utf8'));
const version = config['generator-cli'].version;
const storageDir = resolve(root, config['generator-cli'].storageDir);
const jar = join(storageDir, `${version}.jar`);

function has(cmd, args) {
  try { execFileSync(cmd, args, { stdio: 'ignore' }); return true; } catch { return false; }
}

if (existsSync(jar)) process.exit(0);
for (const [cmd, args, pkg] of [['java', ['-version'], 'a JRE 11+ (Debian: apt-get install -y openjdk-17-jre-headless)'], ['mvn', ['-v'], 'Maven (Debian: apt-get install -y maven)']]) {
  if (!has(cmd, args)) {
    if (optional) {
      console.warn(`bankgate: ${cmd} not found; skipping the openapi-generator JAR (needed only by npm run generate / npm test). Install ${pkg}.`);
      process.exit(0);
    }
    console.error(`bankgate: ${cmd} not found. npm run generate and npm test need ${pkg}.`);
    process.exit(1);
  }
}
mkdirSync(storageDir, { recursive: true });
const artifact = `org.openapitools:openapi-generator-cli:${version}:jar`;
console.log(`bankgate: fetching ${artifact} from Maven Central into ${storageDir}`);
try {
  execFileSync('mvn', ['-q', '-B', 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${storageDir}`, '-Dmdep.stripVersion=false'], { stdio: 'inherit' });
} catch {
  console.error(`bankgate: mvn could not fetch ${artifact}. Check that Maven Central is reachable, then run: node scripts/install-generator-jar.mjs`);
  process.exit(1);
}
const fetched = readdirSync(storageDir).find((f) => f === `openapi-generator-cli-${version}.jar`);
if (!fetched) {
  console.error(`bankgate: mvn finished but ${storageDir}/openapi-generator-cli-${version}.jar is missing`);
  process.exit(1);
}
renameSync(join(storageDir, fetched), jar);
console.log(`bankgate: installed ${jar}`);
