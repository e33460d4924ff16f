import { hostname } from 'node:os';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OWNER_FILE = '.owner';

/**
 * The file store belongs to one process: its locks live in that process's memory, so two live processes on
 * one directory could refresh one connection twice. A second process is refused with the way out (Redis);
 * the file of a process that died (even by `kill -9`) is taken over.
 */
export function claimDirectory(dir: string, label: string): () => void {
  const path = join(dir, OWNER_FILE);
  const me = { pid: process.pid, host: hostname() };
  try {
    writeFileSync(path, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = readHolder(path);
    if (holder && holder.host === me.host && isAlive(holder.pid)) {
      throw new Error(`store: ${label} is in use by process ${holder.pid}; the file store serves one process: stop it, or use redis://… for several replicas`);
    }
    writeFileSync(path, JSON.stringify(me), { mode: 0o600 });
  }
  return () => {
    if (readHolder(path)?.pid === me.pid) {
      try {
        unlinkSync(path);
      } catch {
        // already gone: nothing to release
      }
    }
  };
}

function readHolder(path: string): { pid: number; host: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown; host?: unknown };
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? { pid: parsed.pid, host: parsed.host } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
