import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * `$ref: other.yaml#/…`, `"$ref": "../x.json"`: every reference value in a YAML or JSON text, read without parsing
 * (a regular expression over the text), so that a single-file spec costs one scan and no parse.
 */
const REF_VALUE = /["']?\$ref["']?\s*:\s*(?:"([^"]*)"|'([^']*)'|([^\s,}\]#][^\s,}\]]*|#[^\s,}\]]*))/g;

/** A reference with a file part: not `#/…` (local), and the file part resolved against `from`. */
function externalFile(ref: string, from: string): string | undefined {
  if (ref === '' || ref.startsWith('#')) return undefined;
  const file = ref.split('#')[0]!;
  return file === '' ? undefined : resolve(dirname(from), decodeURIComponent(file));
}

/**
 * Every file a spec reaches through external `$ref`s (the multi-file source form of a spec), transitively, sorted;
 * empty for a self-contained document. These are inputs of the generation: a change in any of them regenerates the
 * API. A scan, not a resolution: a name that cannot be read is left to the bundler, which reports it with its
 * pointer; remote references are refused there too (bundle.ts).
 */
export async function referencedFiles(entry: string): Promise<string[]> {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  while (queue.length > 0) {
    const current = queue.shift()!;
    const text = await readFile(current, 'utf8').catch(() => undefined);
    if (text === undefined) {
      seen.delete(current);
      continue;
    }
    for (const match of text.matchAll(REF_VALUE)) {
      const ref = (match[1] ?? match[2] ?? match[3] ?? '').trim();
      if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) continue;
      const target = externalFile(ref, current);
      if (target === undefined || seen.has(target)) continue;
      seen.add(target);
      queue.push(target);
    }
  }
  seen.delete(entry);
  return [...seen].sort();
}
