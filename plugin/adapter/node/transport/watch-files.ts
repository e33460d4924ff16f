/**
 * Watches certificate files for replacement, the ways operators and orchestrators replace them: written in
 * place, written elsewhere and renamed over (atomic), or a symlink swapped (Kubernetes secret volumes swap a
 * `..data` symlink). Watching a file itself misses the last two (the watched inode is gone), so this watches
 * the directory holding each file, the directory its symlink resolves to and the parent of any symlinked
 * directory on its path, re-resolved after each change.
 * Events are debounced: a certificate and its key are written one after the other.
 */
import { lstatSync, readlinkSync, watch, type FSWatcher } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

export interface FileWatch {
  close(): void;
}

export interface WatchFilesOptions {
  readonly files: readonly string[];
  readonly debounceMs: number;
  /** Runs once the directories were quiet for `debounceMs` after a change. */
  readonly onChange: () => void;
  readonly onError?: (error: Error) => void;
}

/**
 * Every directory where a rename could replace what `file` resolves to: the file's own directory, the
 * parent of every symlink met while resolving it (the link itself, or a symlinked directory on the way, like
 * Kubernetes' `..data`), and the final file's directory (an in-place edit).
 */
function directoriesOf(files: readonly string[]): Set<string> {
  const dirs = new Set<string>();
  for (const file of files) {
    let path = file;
    for (let hops = 0; hops < 16; hops++) {
      dirs.add(dirname(path));
      const link = firstSymlink(path);
      if (link === undefined) break;
      dirs.add(dirname(link));
      try {
        path = resolve(dirname(link), readlinkSync(link)) + path.slice(link.length);
      } catch {
        break; // Missing for a moment during a swap: the next change re-resolves it.
      }
    }
  }
  return dirs;
}

/** The shortest prefix of `path` (itself included) that is a symbolic link. */
function firstSymlink(path: string): string | undefined {
  const parts = path.split(sep);
  for (let i = 2; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join(sep);
    try {
      if (lstatSync(prefix).isSymbolicLink()) return prefix;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function watchFiles(options: WatchFilesOptions): FileWatch {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const fire = (): void => {
    timer = undefined;
    if (closed) return;
    sync();
    options.onChange();
  };
  const schedule = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(fire, options.debounceMs);
    // Watching must never keep the process alive.
    timer.unref();
  };

  function sync(): void {
    const wanted = directoriesOf(options.files);
    for (const [dir, watcher] of watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, schedule);
        watcher.on('error', (error) => {
          watcher.close();
          watchers.delete(dir);
          options.onError?.(error);
        });
        watchers.set(dir, watcher);
      } catch (error) {
        options.onError?.(error as Error);
      }
    }
  }

  sync();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
