import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * A staging directory next to `target` (same filesystem, so the final rename is atomic), e.g.
 * `.generated.staging-Ab12Cd` beside `generated/`.
 */
export async function makeStagingDir(target: string): Promise<string> {
  await mkdir(dirname(target), { recursive: true });
  return mkdtemp(join(dirname(target), `.${basename(target)}.staging-`));
}

/**
 * Replaces `target` with `staged`: the old tree is moved aside, the new one renamed in, the old one deleted. A
 * failure at any step leaves `target` as it was.
 */
export async function swapIn(staged: string, target: string): Promise<void> {
  const backup = `${staged}.previous`;
  const hadTarget = existsSync(target);
  if (hadTarget) await rename(target, backup);
  try {
    await rename(staged, target);
  } catch (error) {
    if (hadTarget) await rename(backup, target);
    throw error;
  }
  if (hadTarget) await rm(backup, { recursive: true, force: true });
}
