#!/usr/bin/env tsx
/**
 * `npm run generate`: bank specs → `generated/<bank>/<api>/{openapi.json,schema.ts,client/,routes.ts,.generation.json}` + `index.ts`.
 *
 *   npm run generate                         openapi/<bank>/<api>.(yaml|yml|json) (+ <api>.overlay.yaml) → generated/;
 *                                            only specs whose inputs changed are regenerated; writes generated/CHANGES.md
 *                                            and generated/changes.json when anything changed
 *   npm run generate -- --check              regenerate everything into a temp dir; fail listing every difference with generated/
 *   npm run generate -- --spec FILE --bank NAME --api NAME --out DIR [--overlay FILE]…
 *                                            one spec (overlays applied in order) → DIR (same layout as generated/<bank>/<api>/,
 *                                            plus DIR/CHANGES.md and DIR/changes.json)
 *   --force                                  regenerate even what is up to date
 *   --fail-on-breaking                       exit 3 when the change report has a breaking change (the output is still written)
 *   --root DIR                               use DIR/openapi and DIR/generated instead of this checkout's (tests)
 *
 * Exit codes: 0 success, 1 a spec or the check failed (one line per problem on stderr), 2 bad invocation,
 * 3 breaking changes with --fail-on-breaking.
 *
 * Kept light on purpose: the generators are imported only when something has to be regenerated, so that an
 * up-to-date tree is confirmed in a fraction of a second.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NAME_PATTERN, NAME_RULE, suggestName } from '../../plugin/config/names.js';
import { check, fail, generateAll, generateOne, type RunContext } from './run.js';

/** Staging and temp dirs to remove when the run is interrupted (Ctrl-C), so no half-written tree is left behind. */
const pendingDirs = new Set<string>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const path of pendingDirs) rmSync(path, { recursive: true, force: true });
    process.stderr.write(`generate: interrupted; nothing written\n`);
    process.exit(130);
  });
}

const USAGE = `usage: npm run generate [-- [--check] [--force] [--fail-on-breaking] [--root DIR]]
       npm run generate -- --spec FILE --bank NAME --api NAME --out DIR [--overlay FILE]... [--force] [--fail-on-breaking]`;

async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        check: { type: 'boolean', default: false },
        spec: { type: 'string' },
        bank: { type: 'string' },
        api: { type: 'string' },
        out: { type: 'string' },
        overlay: { type: 'string', multiple: true },
        force: { type: 'boolean', default: false },
        'fail-on-breaking': { type: 'boolean', default: false },
        root: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const context: RunContext = {
    projectRoot: values.root !== undefined ? resolve(values.root) : undefined,
    force: values.force,
    failOnBreaking: values['fail-on-breaking'],
    pendingDirs,
  };
  const oneOff = [values.spec, values.bank, values.api, values.out];
  if (oneOff.some((value) => value !== undefined)) {
    if (values.check) return usage('--check compares generated/ and cannot be combined with --spec');
    if (oneOff.some((value) => value === undefined || value === '')) return usage('--spec, --bank, --api and --out go together');
    for (const [flag, name] of [['--bank', values.bank!], ['--api', values.api!]] as const) {
      if (!NAME_PATTERN.test(name)) {
        const config = flag === '--bank' ? 'banks.<bank>' : 'banks.<bank>.apis.<api>';
        return usage(`${flag} ${JSON.stringify(name)} must be ${NAME_RULE}, as ${config} in hono.config.ts requires (${NAME_PATTERN.source}); e.g. ${flag} ${suggestName(name, flag.slice(2))}`);
      }
    }
    return generateOne(context, { specPath: resolve(values.spec!), bank: values.bank!, api: values.api!, out: resolve(values.out!), overlays: (values.overlay ?? []).map((path) => resolve(path)) });
  }
  if (values.overlay !== undefined) return usage('--overlay goes with --spec; for openapi/<bank>/<api>.yaml put the overlay beside it as <api>.overlay.yaml');
  if (values.check && (values.force || values['fail-on-breaking'])) return usage('--check regenerates everything and writes nothing; --force and --fail-on-breaking do not apply');
  return values.check ? check(context) : generateAll(context);
}

function usage(message: string): number {
  process.stderr.write(`error: ${message} [USAGE]\n${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(fail(error, 'nothing written')),
);
