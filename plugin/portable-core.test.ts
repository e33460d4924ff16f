/**
 * The core's guard: what `bankgate` exports (`plugin/index.ts`) bundles for a neutral platform (the
 * conditions a Workers or browser build uses) without reaching `node:*` (or a bare Node built-in), undici,
 * ioredis or pino. A failure lists every import chain that reaches one, entry first, so the file to fix is
 * named. The core's own files also use no Node global (`Buffer`, `process`, `setImmediate`, `NodeJS.*`).
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { relative, resolve } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const FORBIDDEN_PACKAGES = ['undici', 'ioredis', 'pino'];

function isForbidden(specifier: string): boolean {
  if (specifier.startsWith('node:') || NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(specifier.split('/')[0]!)) return true;
  return FORBIDDEN_PACKAGES.some((name) => specifier === name || specifier.startsWith(`${name}/`));
}

/** Marks forbidden modules external (so the build completes and the metafile shows who imports them). */
const markForbidden: Plugin = {
  name: 'forbidden-imports',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => (isForbidden(args.path) ? { path: args.path, external: true } : undefined));
  },
};

interface Bundle {
  readonly metafile: Metafile;
  /** Each forbidden module reached, with the chain of files from the entry that imports it. */
  readonly chains: string[];
}

async function bundle(entry: string): Promise<Bundle> {
  const result = await build({
    entryPoints: [resolve(root, entry)],
    absWorkingDir: root,
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['browser', 'module', 'main'],
    conditions: ['workerd', 'worker', 'browser', 'import'],
    logLevel: 'silent',
    plugins: [markForbidden],
  });
  const { inputs } = result.metafile;
  // Breadth-first from the entry: the shortest chain to each file.
  const start = relative(root, resolve(root, entry));
  const parent = new Map<string, string | undefined>([[start, undefined]]);
  const queue = [start];
  const chains: string[] = [];
  const chainTo = (file: string): string[] => {
    const out = [file];
    for (let at = parent.get(file); at !== undefined; at = parent.get(at)) out.unshift(at);
    return out;
  };
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const imported of inputs[file]?.imports ?? []) {
      if (imported.external) {
        if (isForbidden(imported.path)) chains.push([...chainTo(file), imported.path].join(' → '));
        continue;
      }
      if (!parent.has(imported.path)) {
        parent.set(imported.path, file);
        queue.push(imported.path);
      }
    }
  }
  return { metafile: result.metafile, chains: [...new Set(chains)].sort() };
}

/** Node globals the core must not touch (comments aside). */
const NODE_GLOBAL = /\bBuffer\.|\bprocess\.|\bNodeJS\.|\bsetImmediate\(|\b__dirname\b|\b__filename\b|\brequire\(/;

function codeOf(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .filter((line) => !line.trim().startsWith('//'))
    .join('\n');
}

describe('the portable core (bankgate)', () => {
  it('plugin/index.ts bundles for a neutral platform without node:*, undici, ioredis or pino', async () => {
    const { chains, metafile } = await bundle('plugin/index.ts');
    expect(chains, `import chains that reach runtime-specific modules:\n${chains.join('\n')}`).toEqual([]);
    // The guard saw the whole core, not an empty build.
    expect(Object.keys(metafile.inputs)).toEqual(expect.arrayContaining(['plugin/gateway.ts', 'plugin/store/key-ring.ts', 'plugin/transport/signing.ts', 'plugin/surface/caller-auth.ts']));
  });

  it("the core's own files use no Node global", async () => {
    const { metafile } = await bundle('plugin/index.ts');
    const own = Object.keys(metafile.inputs).filter((file) => file.startsWith('plugin/'));
    expect(own.filter((file) => file.startsWith('plugin/adapter/'))).toEqual([]);
    const offenders = own.filter((file) => NODE_GLOBAL.test(codeOf(readFileSync(resolve(root, file), 'utf8'))));
    expect(offenders, `core files using a Node global: ${offenders.join(', ')}`).toEqual([]);
  });

  it('the guard catches what it guards against: bankgate/node reaches undici, ioredis, pino and node:*, each with its chain', async () => {
    const { chains } = await bundle('plugin/adapter/node/index.ts');
    expect(chains).toEqual(
      expect.arrayContaining([
        'plugin/adapter/node/index.ts → plugin/adapter/node/transport/node-transport.ts → undici',
        'plugin/adapter/node/index.ts → plugin/adapter/node/store/redis-store.ts → ioredis',
        'plugin/adapter/node/index.ts → plugin/adapter/node/log.ts → pino',
        'plugin/adapter/node/index.ts → plugin/adapter/node/log.ts → node:fs',
      ]),
    );
  });
});
