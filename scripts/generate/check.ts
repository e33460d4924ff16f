import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface Difference {
  readonly kind: 'changed' | 'missing' | 'unexpected';
  /** `/`-separated, relative to the compared directories. */
  readonly path: string;
}

/**
 * Compares a fresh generation (`fresh`) with the committed tree (`committed`) byte for byte. `missing`: the generator
 * writes it but it is not committed; `unexpected`: committed but no longer generated; `changed`: both, different.
 */
export async function compareTrees(fresh: string, committed: string): Promise<Difference[]> {
  const [freshFiles, committedFiles] = await Promise.all([listFiles(fresh), listFiles(committed)]);
  const committedSet = new Set(committedFiles);
  const freshSet = new Set(freshFiles);
  const differences: Difference[] = [];
  for (const path of freshFiles) {
    if (!committedSet.has(path)) differences.push({ kind: 'missing', path });
    else if (!(await readFile(join(fresh, path))).equals(await readFile(join(committed, path)))) differences.push({ kind: 'changed', path });
  }
  for (const path of committedFiles) if (!freshSet.has(path)) differences.push({ kind: 'unexpected', path });
  return differences.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Every file under `root`, relative and `/`-separated, sorted; an absent root has none. */
export async function listFiles(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}
