import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** The strict settings the SDKs must compile under (the repository's own, and what a team's tsconfig may hold). */
const COMPILER_OPTIONS = {
  target: 'ES2022',
  // DOM without DOM.Iterable: nothing the SDK emits needs it, and it is a good part of the checking time.
  lib: ['ES2023', 'DOM'],
  module: 'ESNext',
  moduleResolution: 'Bundler',
  strict: true,
  noImplicitOverride: true,
  isolatedModules: true,
  skipLibCheck: true,
  noEmit: true,
  types: [],
} as const;

/**
 * Type-checks freshly generated SDK directories together (one program: the standard library is read once) under
 * strict settings. Returns, per directory that does not compile, the reason: its first errors, each with the file
 * (`models/Foo.ts`, naming the model or API class) and the compiler's message.
 */
export async function typeCheckSdks(dirs: readonly string[]): Promise<Map<string, string>> {
  const withheld = new Map<string, string>();
  if (dirs.length === 0) return withheld;
  const ts = (await import('typescript')).default;
  const files: string[] = [];
  for (const dir of dirs) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isFile() && entry.name.endsWith('.ts')) files.push(join(entry.parentPath, entry.name));
  }
  const { options, errors } = ts.convertCompilerOptionsFromJson(COMPILER_OPTIONS, '/');
  if (errors.length > 0) throw new Error(ts.flattenDiagnosticMessageText(errors[0]!.messageText, ' '));
  const program = ts.createProgram(files, options);
  // Syntax errors first: when there are any, the checker's own messages are noise around them.
  const syntactic = program.getSyntacticDiagnostics();
  const diagnostics = syntactic.length > 0 ? syntactic : [...program.getGlobalDiagnostics(), ...program.getSemanticDiagnostics()];
  const byDir = new Map<string, string[]>();
  for (const diagnostic of diagnostics) {
    const file = diagnostic.file?.fileName;
    const dir = file === undefined ? undefined : dirs.find((candidate) => file.startsWith(candidate + sep) || file.startsWith(`${candidate}/`));
    if (dir === undefined || file === undefined) continue;
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    const list = byDir.get(dir) ?? [];
    list.push(`${relative(dir, file).split(sep).join('/')}:${line + 1}: TS${diagnostic.code} ${message}`);
    byDir.set(dir, list);
  }
  for (const [dir, list] of byDir) {
    withheld.set(dir, `${list.length} TypeScript error(s), first ${list.slice(0, 3).join('; ')}`);
  }
  return withheld;
}
