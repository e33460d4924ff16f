/**
 * CPU time of a process and its descendants (nginx: master and worker), from `/proc/<pid>/stat` fields 14
 * and 15 (utime, stime, in clock ticks; 100 per second on Linux).
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function ownTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Microseconds of CPU used so far by `pid` and every live descendant. */
export function cpuMicros(pid: number): number {
  let ticks = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop()!;
    ticks += ownTicks(next);
    stack.push(...children(next));
  }
  return (ticks * 1_000_000) / TICKS_PER_SECOND;
}
