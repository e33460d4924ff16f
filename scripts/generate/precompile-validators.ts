import standaloneCode from 'ajv/dist/standalone/index.js';
import type { ApiManifest } from '../../plugin/manifest/types.js';
import type { MetricsRegistry } from '../../plugin/observability/metrics.js';
import type { RouteMatch } from '../../plugin/surface/route-table.js';
import type { SchemaKind } from '../../plugin/surface/validation/spec-validator.js';
import { GenerateError } from './errors.js';
import { doNotEditHeader } from './header.js';
import type { SpecDocument } from './load-spec.js';

/** The modules Ajv's standalone code `require`s, as the generated ES module imports them. */
const RUNTIME_MODULES = ['ajv-formats/dist/formats', 'ajv/dist/runtime/ucs2length', 'ajv/dist/runtime/equal', 'ajv/dist/runtime/uri', 'ajv/dist/runtime/validation_error'];

/**
 * Renders `validators.js`: Ajv's standalone code for every schema the gateway's validator compiles for this API
 * (the same enumeration, dialect and options: `createSpecValidator` itself drives the compiler), keyed by
 * `schemaKey`, for runtimes that cannot generate code at run time (workerd). An ES module importing only
 * ajv's runtime helpers and ajv-formats; schemas that do not compile are left out, as at run time.
 */
export async function renderValidatorsJs(manifest: ApiManifest, doc: SpecDocument, source: string): Promise<string> {
  const [{ createSpecValidator, ajvCompiler, schemaKey, rebaseRefs, documentId }, { MetricsRegistry }] = await Promise.all([
    import('../../plugin/surface/validation/spec-validator.js'),
    import('../../plugin/observability/metrics.js'),
  ]);
  const key = `${manifest.bank}/${manifest.api}`;
  const documents = new Map([[key, doc]]);
  const { ajv } = ajvCompiler(documents, { source: true });
  const exported = new Map<string, { kind: SchemaKind; name: string }>();
  const ids: Record<SchemaKind, Record<string, string>> = { body: {}, parameters: {} };
  const compiler = {
    compile(documentKey: string, kind: SchemaKind, schema: object) {
      const name = `v${exported.size}`;
      const id = `https://bankgate.invalid/validators/${key}/${name}`;
      const known = exported.get(schemaKey(kind, schema));
      if (known) return ajv[known.kind].getSchema(ids[known.kind][known.name]!)!;
      ajv[kind].addSchema(rebaseRefs(schema, documentId(documentKey)) as object, id);
      try {
        const validate = ajv[kind].getSchema(id)!;
        exported.set(schemaKey(kind, schema), { kind, name });
        ids[kind][name] = id;
        return validate;
      } catch (error) {
        ajv[kind].removeSchema(id);
        throw error;
      }
    },
  };
  const silent = { info() {}, warn() {}, error() {} };
  const validator = createSpecValidator({ documents, responses: 'report', log: silent, metrics: new MetricsRegistry() as MetricsRegistry, compiler });
  for (const route of manifest.routes) validator.coverage({ mounted: { bank: { name: manifest.bank }, api: { name: manifest.api }, route }, params: {} } as unknown as RouteMatch);

  const sections = (['body', 'parameters'] as const).filter((kind) => Object.keys(ids[kind]).length > 0).map((kind) => ({ kind, code: standaloneCode(ajv[kind], ids[kind]) }));
  const required = [...new Set(sections.flatMap(({ code }) => [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!)))].sort();
  const unknown = required.filter((name) => !RUNTIME_MODULES.includes(name));
  if (unknown.length > 0) throw new GenerateError('INTERNAL', `the standalone validators require ${unknown.join(', ')}, which precompile-validators.ts does not import`, { file: source });
  const lines = [
    doNotEditHeader(source).trimEnd(),
    '// Ajv standalone code of every schema bankgate validates this API with (plugin/surface/validation/spec-validator.ts),',
    '// compiled at generate time for runtimes that cannot compile code (Cloudflare Workers). Keyed by schemaKey().',
    ...required.map((name, index) => `import * as m${index} from '${name}.js';`),
    "// A CommonJS module's exports, however the importer (Node, Deno, Bun, a bundler) presents its namespace.",
    'const cjs = (namespace) => (namespace.default && namespace.default.__esModule ? namespace.default : namespace);',
    `const modules = { ${required.map((name, index) => `${JSON.stringify(name)}: cjs(m${index})`).join(', ')} };`,
    'const load = (name) => modules[name];',
    ...sections.map(({ kind, code }) => `const ${kind} = (function (exports, require) {\n${code}\nreturn exports;\n})({}, load);`),
    'export default {',
    `  specSha256: ${JSON.stringify(manifest.specSha256)},`,
    '  validators: {',
    ...[...exported].map(([schema, { kind, name }]) => `    ${JSON.stringify(schema)}: ${kind}.${name},`),
    '  },',
    '};',
    '',
  ];
  return lines.join('\n');
}

/** Renders `validators.d.ts`, the type of `validators.js`. `typesImport` is where `PrecompiledValidatorModule` is. */
export function renderValidatorsDts(source: string, typesImport: string): string {
  return [
    doNotEditHeader(source).trimEnd(),
    '',
    `import type { PrecompiledValidatorModule } from '${typesImport}';`,
    '',
    'declare const validators: PrecompiledValidatorModule;',
    'export default validators;',
    '',
  ].join('\n');
}
