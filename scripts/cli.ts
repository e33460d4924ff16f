#!/usr/bin/env node
/**
 * `bankgate`: the operator commands, run from a gateway repository (the working directory holds its `openapi/`,
 * `generated/` and `.bankgate/`). The same commands as this repository's `npm run generate|connect|cert|sign`:
 * each command module runs as it does there, with the command's own arguments.
 */
import { packageRoot, readPackageJson } from './lib/package-root.js';

const USAGE = `usage: bankgate <command> [options]

commands:
  generate   ./openapi/<bank>/<api>.(yaml|json) → ./generated (route manifests, types, SDKs, the surface document)
             [--check] [--force] [--fail-on-breaking]; one spec: --spec FILE --bank NAME --api NAME --out DIR
  connect    a sandbox PSU consents through the gateway: --bank seb|sg|bg --connection ID [--psu ID] [--scopes S]
             [--sca redirect|oauth|prestep|decoupled|embedded] [--frequency-per-day N] (bg)
             (gateway at BANKGATE_URL, default http://127.0.0.1:$PORT; key from BANKGATE_DEV_KEY or .bankgate/dev-key)
  cert       inspect FILE [--passphrase P]: subject, issuer, validity, key type and x5t#S256 of a PEM or PKCS#12
  sign       --key K --cert C --key-id ID --method M --url URL [--header 'N: v']... [--body FILE]:
             the Digest, Signature and TPP-Signature-Certificate headers bankgate would send

bankgate <command> --help shows a command's own usage. bankgate --version prints the version.`;

/** Command → its module, relative to this file (scripts/ in the sources, dist/scripts/ in the package). */
const COMMANDS: Readonly<Record<string, string>> = {
  generate: './generate/main.js',
  connect: './connect.js',
  cert: './cert.js',
  sign: './sign.js',
};

const [command, ...args] = process.argv.slice(2);
if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(command === undefined ? 2 : 0);
}
if (command === '--version' || command === '-v') {
  process.stdout.write(`${readPackageJson(packageRoot()).version}\n`);
  process.exit(0);
}
const module = COMMANDS[command];
if (module === undefined) {
  process.stderr.write(`bankgate: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
  process.exit(2);
}
const commandArgs = command === 'generate' ? await generateArgs(args) : args;
// Each command module parses process.argv.slice(2) and exits by itself.
process.argv = [process.argv[0]!, process.argv[1]!, ...commandArgs];
await import(module);

/** `generate` for the working directory's project, once its generators and the JAR are in place. */
async function generateArgs(given: readonly string[]): Promise<string[]> {
  if (given.includes('--help') || given.includes('-h')) return [...given];
  const { ensureGeneratorJar, missingGeneratorPeers, missingPeersMessage } = await import('./lib/generator-setup.js');
  const root = packageRoot();
  const missing = missingGeneratorPeers(root);
  if (missing.length > 0) {
    process.stderr.write(`${missingPeersMessage(missing)}\n`);
    process.exit(1);
  }
  const jar = ensureGeneratorJar(root);
  if ('error' in jar) {
    process.stderr.write(`${jar.error}\n`);
    process.exit(1);
  }
  process.env.BANKGATE_GENERATOR_JAR = jar.jar;
  const hasRoot = given.some((arg) => arg === '--root' || arg.startsWith('--root='));
  return hasRoot ? [...given] : [...given, '--root', process.cwd()];
}
