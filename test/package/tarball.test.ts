/**
 * The package as a team gets it: `npm pack` (which builds dist/ first), the tarball installed with `hono` into an
 * empty project, and used from there:
 * - plain JavaScript imports `bankgate` and `bankgate/node`, serves the gateway in front of the sandbox's SEB-like
 *   bank with the Node handler; `npx bankgate connect` completes a consent as the sandbox PSU; a bank call is 200;
 * - the CLI: `--help`, `cert`, `sign`, and `generate` of the project's own spec, which first names the generator
 *   packages to install (the exact `npm i -D` command, then run as printed), the missing Java or Maven with the
 *   command that provides it, then fetches the JAR into its cache and writes a generated/ that type-checks against
 *   the installed declarations.
 * The npm registry is only asked for what the npm cache lacks (`--prefer-offline`).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifests } from '../../generated/index.js';
import { startSandbox, type RunningSandbox } from '../../sandbox/index.js';
import { NODE_DIR, run, serve, teamEnv, writeFiles, type Result } from './project.js';

const repoRoot = new URL('../../', import.meta.url).pathname;
const NPM_QUIET = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const DEV_KEY = 'package-test-dev-key-0123456789';

let dir: string;
let project: string;
let tarball: string;
let packedFiles: string[];
let sandbox: RunningSandbox;

/** `npx --no -- bankgate …` in the project (`--no`: the installed bin or nothing, never one fetched from the registry). */
const bankgate = (args: readonly string[], env = teamEnv()): Promise<Result> => run('npx', ['--no', '--', 'bankgate', ...args], project, env);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bankgate-package-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], repoRoot);
  expect(packed.code, packed.stderr).toBe(0);
  // npm pack prints the prepack build's lines before its JSON.
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(dir, info!.filename);
  packedFiles = info!.files.map((file) => file.path);

  project = writeFiles(join(dir, 'team-gateway'), { 'package.json': `${JSON.stringify({ name: 'team-gateway', private: true, type: 'module' }, null, 2)}\n` });
  const hono = (JSON.parse(readFileSync(join(repoRoot, 'node_modules/hono/package.json'), 'utf8')) as { version: string }).version;
  const installed = await run('npm', ['install', ...NPM_QUIET, tarball, `hono@${hono}`], project);
  expect(installed.code, installed.stderr).toBe(0);
}, 600_000);

afterAll(async () => {
  await sandbox?.stop();
  // The project's node_modules is ~45,000 files: removing them takes minutes when the disk is busy.
  if (dir) await rm(dir, { recursive: true, force: true });
}, 600_000);

describe('the packed tarball', () => {
  it('holds the entry points with their declarations, and nothing of tests, bench, sandbox PKI or this repository’s banks', () => {
    // Every target of package.json `exports` (the one place naming the entry points) and `bin`, with its map.
    const { exports, bin } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>>; bin: Record<string, string> };
    expect(Object.keys(exports)).toEqual(expect.arrayContaining(['.', './node', './client']));
    const targets = Object.values(exports).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)));
    for (const target of [...targets, ...Object.values(bin)]) {
      const path = target.replace(/^\.\//, '');
      expect(packedFiles).toContain(path);
      if (path.endsWith('.js')) expect(packedFiles).toContain(`${path}.map`);
    }
    for (const file of ['dist/scripts/generate/main.js', 'scripts/install-generator-jar.mjs', 'openapitools.json']) expect(packedFiles).toContain(file);
    const unwanted = packedFiles.filter((path) =>
      /\.test\.|\.fixture\.|^test\/|^bench\/|^dist\/bench\/|sandbox-pki|\.pem$|^openapi\/|^generated\/|^dist\/hono\.config|^dist\/scripts\/(start|gateway)\.js/.test(path),
    );
    expect(unwanted).toEqual([]);
    // Of the sandbox, only what `bankgate connect` runs; of this repository's generated code, only the client's types.
    expect(packedFiles.filter((path) => path.startsWith('dist/sandbox/')).sort()).toEqual(
      [
        'dist/sandbox/bg/psus.js',
        'dist/sandbox/bg/psus.js.map',
        'dist/sandbox/data.js',
        'dist/sandbox/data.js.map',
        'dist/sandbox/headless-consent.js',
        'dist/sandbox/headless-consent.js.map',
        'dist/sandbox/headless-psu.js',
        'dist/sandbox/headless-psu.js.map',
        'dist/sandbox/sandbox-file.js',
        'dist/sandbox/sandbox-file.js.map',
      ],
    );
    expect(packedFiles.filter((path) => path.startsWith('dist/generated/'))).toEqual(['dist/generated/surface/schema.d.ts']);
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/bankgate/package.json'), 'utf8')) as { scripts?: Record<string, string>; bin: Record<string, string> };
    // npm runs no install script of a dependency anyway; the package must not need one.
    expect(Object.keys(manifest.scripts ?? {}).filter((name) => /^(pre|post)?install$/.test(name))).toEqual([]);
    expect(manifest.bin).toEqual({ bankgate: './dist/scripts/cli.js' });
  });
});

describe('bankgate from plain JavaScript, in front of the sandbox', () => {
  let gateway: Awaited<ReturnType<typeof serve>> | undefined;
  afterAll(async () => {
    await gateway?.stop();
  });

  it('serves a bank call through bankgate/node after a consent completed with `npx bankgate connect`', { timeout: 180_000 }, async () => {
    sandbox = await startSandbox({ dir: join(dir, 'sandbox'), log: () => {} });
    const port = await freePort();
    writeFiles(project, {
      // The team's manifest of the bank (here: this repository's generated one for the sandbox's SEB-like bank).
      'seb-ais.manifest.json': JSON.stringify(manifests.seb.ais),
      'app.mjs': APP_MJS,
    });
    const env = teamEnv({ PORT: String(port), BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_SANDBOX_FILE: sandbox.filePath, BANKGATE_LOG_LEVEL: 'warn' });
    gateway = await serve(process.execPath, ['app.mjs'], project, env);
    const url = gateway.readyLine;
    expect(url).toBe(`http://127.0.0.1:${port}`);

    const connect = await bankgate(['connect', '--bank', 'seb', '--connection', 'team-demo'], teamEnv({ BANKGATE_URL: url, BANKGATE_DEV_KEY: DEV_KEY, BANKGATE_SANDBOX_FILE: sandbox.filePath }));
    expect(connect.code, connect.stderr).toBe(0);
    expect(connect.stdout).toContain('connection team-demo is active');

    const headers = { authorization: `Bearer ${DEV_KEY}`, 'x-connection-id': 'team-demo', 'psu-ip-address': '203.0.113.7' };
    const accounts = await fetch(`${url}/seb/ais/accounts`, { headers });
    const body = (await accounts.json()) as { accounts?: unknown[] };
    expect(accounts.status, JSON.stringify(body)).toBe(200);
    expect(body.accounts?.length).toBeGreaterThan(0);
    const status = await fetch(`${url}/connections/team-demo`, { headers: { authorization: `Bearer ${DEV_KEY}` } });
    expect(((await status.json()) as { status: string }).status).toBe('active');
    // The app's own problem answers come from the installed package too: an undeclared path is bankgate's 404.
    const undeclared = await fetch(`${url}/seb/ais/not-an-operation`, { headers });
    expect(undeclared.status).toBe(404);
    expect(((await undeclared.json()) as { code: string }).code).toBe('route_not_found');
  });
});

describe('the bankgate CLI in a team repository', () => {
  it('--help lists the commands', async () => {
    const help = await bankgate(['--help']);
    expect(help.code, help.stderr).toBe(0);
    for (const command of ['generate', 'connect', 'cert', 'sign']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    const unknown = await bankgate(['deploy']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "deploy"');
  });

  it('cert inspect and sign work on the sandbox’s certificates', { timeout: 60_000 }, async () => {
    const sg = sandbox.file.banks.sg;
    const cert = await bankgate(['cert', 'inspect', sg.mtls.certFile]);
    expect(cert.code, cert.stderr).toBe(0);
    expect(cert.stdout).toMatch(/x5t#S256/);
    const sign = await bankgate(['sign', '--key', sg.signing!.keyFile, '--cert', sg.signing!.certFile, '--key-id', 'team-qseal', '--method', 'GET', '--url', 'https://bank.example/accounts', '--header', 'X-Request-ID: 3f1c0ad8-6d1e-4a55-9a3b-0c6a1d2e9f10']);
    expect(sign.code, sign.stderr).toBe(0);
    expect(sign.stdout).toMatch(/^Signature: keyId="team-qseal"/m);
    expect(sign.stdout).toMatch(/^TPP-Signature-Certificate: /m);
  });

  it('generate names the generator packages to install, with the exact command, which then works', { timeout: 300_000 }, async () => {
    writeFiles(project, { 'openapi/acme/ais.yaml': ACME_SPEC });
    const before = await bankgate(['generate']);
    expect(before.code).toBe(1);
    expect(before.stderr).toContain('optional peer dependencies of bankgate');
    const command = /^ {2}(npm i -D .+)$/m.exec(before.stderr)?.[1];
    expect(command, before.stderr).toMatch(/openapi-typescript@\^7/);
    expect(existsSync(join(project, 'generated'))).toBe(false);
    const [, , ...packages] = command!.split(' ');
    const installed = await run('npm', ['i', ...packages, ...NPM_QUIET], project);
    expect(installed.code, installed.stderr).toBe(0);
  });

  it('generate says what to install when Java or Maven is missing, and changes nothing', async () => {
    const cli = join(project, 'node_modules/bankgate/dist/scripts/cli.js');
    const cache = join(dir, 'cache-without-tools');
    const noJava = await run(process.execPath, [cli, 'generate'], project, teamEnv({ PATH: NODE_DIR, BANKGATE_CACHE_DIR: cache }));
    expect(noJava.code).toBe(1);
    expect(noJava.stderr).toContain('java not found');
    expect(noJava.stderr).toContain('apt-get install -y openjdk-17-jre-headless');
    // Java, but no Maven to fetch the JAR with.
    const javaOnly = join(dir, 'java-only');
    mkdirSync(javaOnly, { recursive: true });
    symlinkSync(which('java'), join(javaOnly, 'java'));
    const noMaven = await run(process.execPath, [cli, 'generate'], project, teamEnv({ PATH: `${NODE_DIR}:${javaOnly}`, BANKGATE_CACHE_DIR: cache }));
    expect(noMaven.code).toBe(1);
    expect(noMaven.stderr).toContain('mvn not found');
    expect(noMaven.stderr).toContain('apt-get install -y maven');
    expect(noMaven.stderr).toMatch(/curl -fL -o \S+\/openapi-generator\/7\.\d+\.\d+\.jar https:\/\/repo1\.maven\.org\//);
    expect(existsSync(join(project, 'generated'))).toBe(false);
  });

  it('generate fetches the JAR into its cache on first use and writes ./generated importing the package', { timeout: 300_000 }, async () => {
    const cache = join(dir, 'cache');
    const env = teamEnv({ BANKGATE_CACHE_DIR: cache });
    const first = await bankgate(['generate'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`fetching org.openapitools:openapi-generator-cli`);
    expect(existsSync(join(cache, 'openapi-generator'))).toBe(true);
    const routes = await readFile(join(project, 'generated/acme/ais/routes.ts'), 'utf8');
    expect(routes).toContain("import type { ApiManifest } from 'bankgate';");
    expect(routes).toContain('"operationId": "getAccounts"');
    for (const file of ['generated/index.ts', 'generated/acme/ais/schema.ts', 'generated/acme/ais/client/index.ts', 'generated/surface/schema.ts']) expect(existsSync(join(project, file)), file).toBe(true);

    const again = await bankgate(['generate', '--check'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('fetching');
  });

  it('generated/ type-checks against the installed declarations, with the config that mounts it', { timeout: 180_000 }, async () => {
    writeFiles(project, {
      'tsconfig.json': JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, resolveJsonModule: true, skipLibCheck: true, noEmit: true, lib: ['ES2023', 'DOM'] },
        // The typescript-fetch SDKs (generated/*/*/client/) import without file extensions: they need a bundler's resolution.
        include: ['gateway.ts', 'generated/index.ts', 'generated/*/*/routes.ts', 'generated/*/*/schema.ts', 'generated/surface/schema.ts'],
      }),
      'gateway.ts': GATEWAY_TS,
    });
    const tsc = await run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', '.'], project);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
  });
});

/** A team's gateway in plain JavaScript: bankgate and bankgate/node from the installed package, one sandbox bank. */
const APP_MJS = `import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { defineConfig } from 'bankgate';
import { createGateway, createNodeHandler } from 'bankgate/node';

const manifest = JSON.parse(readFileSync(new URL('./seb-ais.manifest.json', import.meta.url), 'utf8'));
const sandbox = JSON.parse(readFileSync(process.env.BANKGATE_SANDBOX_FILE, 'utf8'));
const seb = sandbox.banks.seb;
const port = Number(process.env.PORT);

const gateway = await createGateway(defineConfig({
  publicUrl: \`http://127.0.0.1:\${port}\`,
  store: 'memory',
  banks: {
    seb: {
      apis: { ais: { manifest, baseUrl: seb.apis.ais } },
      authorizationServer: {
        kind: 'static',
        issuer: seb.authorizationServer.issuer,
        authorizationEndpoint: seb.authorizationServer.authorizationEndpoint,
        tokenEndpoint: seb.authorizationServer.tokenEndpoint,
      },
      client: { clientId: seb.client.clientId, auth: { method: 'client_secret_post', secret: { value: seb.client.clientSecret } } },
      mtls: { cert: { file: seb.mtls.certFile }, key: { file: seb.mtls.keyFile }, ca: { file: sandbox.caFile } },
    },
  },
}));
const server = createServer(createNodeHandler(gateway));
server.listen(port, '127.0.0.1', () => console.log(\`ready http://127.0.0.1:\${port}\`));
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => server.close(() => gateway.close().then(() => process.exit(0))));
`;

/** The team's config in TypeScript over its generated/: checked, not run. */
const GATEWAY_TS = `import { defineConfig, type ApiManifest } from 'bankgate';
import { createGateway, createNodeHandler } from 'bankgate/node';
import { createGatewayClient } from 'bankgate/client';
import { documents, manifests } from './generated/index.js';

export const config = defineConfig({
  banks: {
    acme: {
      apis: { ais: { manifest: manifests.acme.ais, document: documents.acme.ais } },
      authorizationServer: { kind: 'discovery', issuer: 'https://as.acme.example' },
      client: { clientId: 'team', auth: { method: 'tls_client_auth' } },
      mtls: { cert: { file: '/etc/team/qwac.pem' }, key: { file: '/etc/team/qwac.key' } },
    },
  },
});
export const start = async () => createNodeHandler(await createGateway(config));
export const client = createGatewayClient({ baseUrl: 'https://gateway.internal', credential: 'key' });
const operationId: 'getAccounts' = manifests.acme.ais.routes[0].operationId;
export { operationId };
// The declarations are real types, not \`any\`: each of these must be an error.
// @ts-expect-error a manifest is an object
export const notAManifest: ApiManifest = 'routes';
// @ts-expect-error an unknown token kind
export const wrongKind: ApiManifest['routes'][number]['tokenKind'] = 'pizza';
`;

/** The team's own bank spec. */
const ACME_SPEC = `openapi: 3.0.3
info: { title: Acme accounts, version: '1.0' }
servers: [{ url: 'https://api.acme.example/v1' }]
paths:
  /accounts:
    get:
      operationId: getAccounts
      security: [{ oauth: [accounts] }]
      parameters:
        - { name: PSU-IP-Address, in: header, required: true, schema: { type: string } }
      responses:
        '200':
          description: the PSU's accounts
          content:
            application/json:
              schema:
                type: object
                properties:
                  accounts: { type: array, items: { type: object, properties: { iban: { type: string } } } }
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        authorizationCode: { authorizationUrl: 'https://as.acme.example/authorize', tokenUrl: 'https://as.acme.example/token', scopes: { accounts: read accounts } }
`;

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}

function which(command: string): string {
  for (const entry of (process.env.PATH ?? '').split(':')) {
    if (entry && existsSync(join(entry, command))) return join(entry, command);
  }
  throw new Error(`${command} is not on PATH (npm test needs it: see the README)`);
}
